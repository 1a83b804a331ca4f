import { describe, expect, it } from "vitest";
import { awakeLine, whyAwake, type AwakeFacts } from "../../../runtime/lifecycle/why-awake.ts";

const NOW = 1_000_000;
const facts = (over: Partial<AwakeFacts> = {}): AwakeFacts => ({
  state: "Active",
  live: true,
  starting: false,
  inFlight: 0,
  directCalls: 0,
  lastEventAt: NOW - 400,
  idleSince: NOW - 400,
  policy: { idleAfterMs: 1_000, hibernateAfterMs: 10_000 },
  standardSockets: 0,
  streams: 0,
  heldStubs: 0,
  hibernatableSockets: 0,
  alarmAt: null,
  probe: null,
  now: NOW,
  ...over,
});
const probe = { waitUntil: 0, blocking: false, transaction: false, fields: { n: "1" } };

describe("whyAwake", () => {
  it("times an Active object's hibernation from its last event, an Idle one's from going Idle", () => {
    const active = whyAwake(facts());
    expect(active).toMatchObject({
      awake: true,
      idleAt: NOW + 600,
      hibernatesAt: NOW + 10_600,
      quietMs: 11_000,
    });
    expect(active.reasons).toEqual([expect.objectContaining({ kind: "idle-timeout", blocks: false })]);
    expect(awakeLine(active)).toBe("hibernates in 11 s");

    const idle = whyAwake(facts({ state: "Idle", idleSince: NOW - 2_000 }));
    expect(idle).toMatchObject({ idleAt: null, hibernatesAt: NOW + 8_000 });
    expect(idle.reasons[0]!.detail).toBe("Idle for 2.0 s; hibernates after 10 s Idle");
  });

  it("lists every reason that holds it, and then gives no hibernation time", () => {
    const w = whyAwake(
      facts({
        inFlight: 2,
        directCalls: 1,
        standardSockets: 1,
        streams: 1,
        heldStubs: 3,
        probe: { ...probe, waitUntil: 1, blocking: true, transaction: true },
      }),
    );
    expect(w.reasons.map((r) => [r.kind, r.blocks])).toEqual([
      ["requests", true],
      ["calls", true],
      ["standard-websocket", true],
      ["streaming", true],
      ["held-stubs", true],
      ["wait-until", true],
      ["blocking", true],
      ["transaction", true],
    ]);
    expect(w.reasons[0]!.detail).toBe("2 requests in flight");
    expect(w).toMatchObject({ hibernatesAt: null, idleAt: null, fields: { n: "1" } });
    expect(awakeLine(w)).toBe("requests in flight");
    expect(awakeLine(whyAwake(facts({ probe: { ...probe, blocking: true } })))).toBe("blockConcurrencyWhile");
    const held = whyAwake(facts({ state: "Idle", heldStubs: 2 }));
    expect(held.reasons[0]!.detail).toMatch(/^held RPC stubs: 2 /);
    expect(held.hibernatesAt).toBeNull();
    expect(awakeLine(held)).toBe("held RPC stubs");
    expect(awakeLine(whyAwake(facts({ probe: { ...probe, transaction: true } })))).toBe("open transaction");
  });

  it("names an alarm only when it comes before the hibernation, and while asleep as what wakes it", () => {
    expect(whyAwake(facts({ alarmAt: NOW + 60_000 })).reasons.map((r) => r.kind)).toEqual(["idle-timeout"]);
    const soon = whyAwake(facts({ alarmAt: NOW + 3_000 }));
    expect(soon.reasons.map((r) => r.kind)).toEqual(["idle-timeout", "alarm"]);
    expect(soon.reasons[1]!.detail).toMatch(/alarm in 3\.0 s comes before it would hibernate/);
    expect(awakeLine(soon)).toBe("alarm due soon");

    const asleep = whyAwake(facts({ state: "Hibernating", live: false, alarmAt: NOW + 5_000 }));
    expect(asleep).toMatchObject({ awake: false, hibernatesAt: null, idleAt: null, fields: null });
    expect(asleep.reasons).toEqual([{ kind: "alarm", blocks: false, detail: "its alarm in 5.0 s wakes it" }]);
    expect(awakeLine(asleep)).toBeNull();
  });
});
