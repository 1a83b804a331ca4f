import type { LifecycleState } from "../../../runtime/api/contract.ts";
import { stateClass } from "./format.ts";

export function StateBadge({ state }: { readonly state: LifecycleState }) {
  return (
    <span className={`state-badge ${stateClass(state)}`} data-state={state}>
      {state}
    </span>
  );
}
