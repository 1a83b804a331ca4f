import type { LifecycleState } from "../../../runtime/api/contract.ts";

// The seed's state machine, as the UI draws it. A copy of the engine's table
// (the renderer imports only types from the runtime); `satisfies` keeps the
// state names honest, and the Inspector's diagram draws exactly these edges.

export const LIFECYCLE_STATES = [
  "Created",
  "Initializing",
  "Active",
  "Processing",
  "Updating",
  "Scaling",
  "Idle",
  "Hibernating",
  "Terminating",
] as const satisfies readonly LifecycleState[];

export const ALLOWED_TRANSITIONS = {
  Created: ["Initializing"],
  Initializing: ["Active"],
  Active: ["Processing", "Updating", "Scaling", "Idle", "Terminating"],
  Processing: ["Active"],
  Updating: ["Active"],
  Scaling: ["Active"],
  Idle: ["Active", "Hibernating", "Terminating"],
  Hibernating: ["Initializing", "Terminating"],
  Terminating: [],
} as const satisfies Record<LifecycleState, readonly LifecycleState[]>;
