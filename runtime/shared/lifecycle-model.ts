/**
 * The seed's lifecycle state machine, exactly. Any transition not listed
 * here is a bug in Terrarium and is refused (and logged by the caller).
 */
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
] as const;

export type LifecycleState = (typeof LIFECYCLE_STATES)[number];

export const ALLOWED_TRANSITIONS: Readonly<Record<LifecycleState, readonly LifecycleState[]>> = {
  Created: ["Initializing"],
  Initializing: ["Active"],
  Active: ["Processing", "Updating", "Scaling", "Idle", "Terminating"],
  Processing: ["Active"],
  Updating: ["Active"],
  Scaling: ["Active"],
  Idle: ["Active", "Hibernating", "Terminating"],
  Hibernating: ["Initializing", "Terminating"],
  Terminating: [],
};

export function isLifecycleState(s: string): s is LifecycleState {
  return (LIFECYCLE_STATES as readonly string[]).includes(s);
}

export function canTransition(from: LifecycleState, to: LifecycleState): boolean {
  return ALLOWED_TRANSITIONS[from].includes(to);
}

export class IllegalTransitionError extends Error {
  override name = "IllegalTransitionError";
  constructor(
    readonly from: LifecycleState,
    readonly to: LifecycleState,
    readonly objectId: string,
  ) {
    super(`illegal lifecycle transition ${from} -> ${to} for object ${objectId}`);
  }
}

/**
 * The shortest legal path from `from` to `to` (excluding `from`), or null.
 * `avoid` lists states the path must not pass through; used to settle an
 * object after a crash or a restart without claiming it re-initialized.
 */
export function pathBetween(
  from: LifecycleState,
  to: LifecycleState,
  avoid: readonly LifecycleState[] = [],
): LifecycleState[] | null {
  if (from === to) return [];
  const prev = new Map<LifecycleState, LifecycleState>();
  const queue: LifecycleState[] = [from];
  const seen = new Set<LifecycleState>([from]);
  while (queue.length > 0) {
    const s = queue.shift()!;
    for (const next of ALLOWED_TRANSITIONS[s]) {
      if (seen.has(next) || (next !== to && avoid.includes(next))) continue;
      seen.add(next);
      prev.set(next, s);
      if (next === to) {
        const path: LifecycleState[] = [to];
        let cur = s;
        while (cur !== from) {
          path.unshift(cur);
          cur = prev.get(cur)!;
        }
        return path;
      }
      queue.push(next);
    }
  }
  return null;
}
