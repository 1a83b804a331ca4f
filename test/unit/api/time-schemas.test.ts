import { describe, expect, it } from "vitest";
import type { ControlApi } from "../../../runtime/api/contract.ts";
import { dispatch, ValidationError } from "../../../runtime/api/dispatch.ts";

const ID = "a".repeat(64);

/** An API whose every method answers what it was called with: only the bridge's checks are under test. */
const echo = new Proxy({} as ControlApi, {
  get:
    (_t, method) =>
    async (...args: unknown[]) => ({ method, args }),
});

describe("the time-travel methods at the bridge", () => {
  it("takes well-formed calls", async () => {
    await expect(dispatch(echo, "resetState", [{ className: "Notes" }])).resolves.toBeTruthy();
    await expect(dispatch(echo, "resetState", [{ all: true }])).resolves.toBeTruthy();
    await expect(
      dispatch(echo, "diffSnapshots", [{ objectId: ID, from: "0mxce0xel-11f982" }]),
    ).resolves.toBeTruthy();
    await expect(
      dispatch(echo, "rollbackClass", [{ className: "Notes", hash: "0".repeat(64) }]),
    ).resolves.toBeTruthy();
  });

  it.each([
    ["restoreSnapshot", [{ objectId: ID, snapshotId: "../../etc/passwd" }], /snapshot id/],
    ["resetState", [{ className: "Notes", all: true }], /resetState/],
    ["resetState", [{ all: false }], /resetState/],
    ["resetState", [{}], /resetState/],
    ["takeSnapshot", [{ objectId: ID, label: "x".repeat(201) }], /takeSnapshot/],
    ["rollbackClass", [{ className: "Notes", hash: "abc" }], /version hash/],
    ["classVersionText", [{ className: "../x", hash: "0".repeat(64) }], /identifier/],
    ["snapshots", ["not-an-id"], /object id/],
  ] as const)("refuses %s(%j) before it reaches the engine", async (method, args, message) => {
    const call = dispatch(echo, method, [...args]);
    await expect(call).rejects.toBeInstanceOf(ValidationError);
    await expect(call).rejects.toThrow(message);
  });
});
