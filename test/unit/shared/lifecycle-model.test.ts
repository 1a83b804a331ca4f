import { describe, expect, it } from "vitest";
import {
  ALLOWED_TRANSITIONS,
  canTransition,
  LIFECYCLE_STATES,
  pathBetween,
  type LifecycleState,
} from "../../../runtime/shared/lifecycle-model.ts";

// The seed's machine, written out edge by edge (DESIGN.md, "Lifecycle").
const SEED: [LifecycleState, LifecycleState][] = [
  ["Created", "Initializing"],
  ["Initializing", "Active"],
  ["Active", "Processing"],
  ["Processing", "Active"],
  ["Active", "Updating"],
  ["Updating", "Active"],
  ["Active", "Scaling"],
  ["Scaling", "Active"],
  ["Active", "Idle"],
  ["Idle", "Active"],
  ["Idle", "Hibernating"],
  ["Hibernating", "Initializing"],
  ["Active", "Terminating"],
  ["Idle", "Terminating"],
  ["Hibernating", "Terminating"],
];

describe("lifecycle state machine", () => {
  const allowed = new Set(SEED.map(([a, b]) => `${a}->${b}`));
  for (const from of LIFECYCLE_STATES) {
    for (const to of LIFECYCLE_STATES) {
      const ok = allowed.has(`${from}->${to}`);
      it(`${ok ? "allows" : "refuses"} ${from} -> ${to}`, () => {
        expect(canTransition(from, to)).toBe(ok);
      });
    }
  }

  it("has exactly the seed's edges", () => {
    const edges = Object.entries(ALLOWED_TRANSITIONS).flatMap(([a, tos]) => tos.map((b) => `${a}->${b}`));
    expect(new Set(edges)).toEqual(allowed);
  });

  it("finds legal paths for settling objects, avoiding states on request", () => {
    expect(pathBetween("Processing", "Hibernating", ["Initializing"])).toEqual([
      "Active",
      "Idle",
      "Hibernating",
    ]);
    expect(pathBetween("Hibernating", "Active")).toEqual(["Initializing", "Active"]);
    expect(pathBetween("Terminating", "Active")).toBeNull();
    expect(pathBetween("Idle", "Idle")).toEqual([]);
  });
});
