import { describe, expect, it } from "vitest";
import WebSocket from "ws";
import type { Engine } from "../../runtime/engine.ts";
import { enginesPerTest, until } from "../helpers/project.ts";
import { controlApi } from "../../runtime/api/control-api.ts";

// "Why is it awake?" and "hibernate now, then wake" through the real engine:
// real workers, a real router and real WebSockets.

const engines = enginesPerTest();
/** Timeouts long enough that nothing idles or hibernates on its own during a test. */
const POLICY = { idleAfterMs: 60_000, hibernateAfterMs: 60_000 };

async function open(): Promise<{ engine: Engine; url: string }> {
  const { engine } = await engines.open("awake", { lifecycle: { policy: POLICY } });
  const port = await engine.listen(0);
  return { engine, url: `127.0.0.1:${port}` };
}

async function idOf(engine: Engine, name: string): Promise<string> {
  const { objects } = await controlApi(engine).listObjects({ search: name });
  const o = objects.find((x) => x.name === name);
  if (!o) throw new Error(`no object ${name}`);
  return o.id;
}

/** Waits until nothing holds the object awake (the last request's or socket event's end is counted). */
async function settled(engine: Engine, id: string): Promise<void> {
  await until(
    async () => !(await controlApi(engine).whyAwake(id)).reasons.some((r) => r.blocks),
    "nothing to hold the object awake",
  );
}

function socket(url: string): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    ws.once("open", () => resolve(ws));
    ws.once("error", reject);
  });
}

function reply(ws: WebSocket, send: string): Promise<string> {
  return new Promise((resolve) => {
    ws.once("message", (d: Buffer) => resolve(d.toString()));
    ws.send(send);
  });
}

describe("why is it awake", () => {
  it("names a response body the object streams, until the client goes away", async () => {
    const { engine, url } = await open();
    const abort = new AbortController();
    const res = await fetch(`http://${url}/n/s/events`, { signal: abort.signal });
    const reader = res.body!.getReader();
    // The first event arrives before the body ends (it never ends).
    expect(new TextDecoder().decode((await reader.read()).value)).toBe("data: 0\n\n");
    const id = await idOf(engine, "s");
    const streaming = async (): Promise<boolean> =>
      (await controlApi(engine).whyAwake(id)).reasons.some((r) => r.kind === "streaming" && r.blocks);
    await until(streaming, "the stream named as what holds the object awake");
    expect((await controlApi(engine).whyAwake(id)).reasons.find((r) => r.kind === "streaming")!.detail).toBe(
      "1 response body still streaming to a client",
    );
    abort.abort();
    await until(async () => !(await streaming()), "the stream gone once the client went away");
  });

  it("names requests in flight and waitUntil, then says when it hibernates", async () => {
    const { engine, url } = await open();
    await fetch(`http://${url}/n/a/`);
    const id = await idOf(engine, "a");
    await settled(engine, id);

    const quiet = await controlApi(engine).whyAwake(id);
    expect(quiet.awake).toBe(true);
    expect(quiet.reasons.map((r) => r.kind)).toEqual(["idle-timeout"]);
    // Active: Idle after idleAfterMs of quiet, then hibernation after hibernateAfterMs more.
    expect(quiet.idleAt! - quiet.at).toBeLessThanOrEqual(POLICY.idleAfterMs);
    expect(quiet.hibernatesAt! - quiet.idleAt!).toBe(POLICY.hibernateAfterMs);
    expect(quiet.fields).toMatchObject({ hits: "1", stored: "0" });
    expect((await controlApi(engine).getObject(id))!.awake).toEqual({
      reason: null,
      hibernatesAt: quiet.hibernatesAt,
    });

    const held = fetch(`http://${url}/n/a/hold`).then((r) => r.text());
    await until(async () => (await controlApi(engine).getObject(id))!.inFlight === 1, "the held request");
    const busy = await controlApi(engine).whyAwake(id);
    expect(busy.reasons).toContainEqual(
      expect.objectContaining({ kind: "requests", blocks: true, detail: "1 request in flight" }),
    );
    expect(busy.hibernatesAt).toBeNull();
    expect((await controlApi(engine).getObject(id))!.awake).toEqual({
      reason: "requests in flight",
      hibernatesAt: null,
    });
    // Hibernate-and-wake refuses, naming what holds it.
    await expect(controlApi(engine).hibernateAndWake(id)).rejects.toThrow(
      /cannot hibernate now: 1 request in flight/,
    );

    await fetch(`http://${url}/n/a/release`);
    expect(await held).toBe("released");
    await fetch(`http://${url}/n/a/later`);
    await until(async () => (await controlApi(engine).getObject(id))!.inFlight === 0, "no request in flight");
    const later = await controlApi(engine).whyAwake(id);
    expect(later.reasons).toContainEqual(expect.objectContaining({ kind: "wait-until", blocks: true }));
    await fetch(`http://${url}/n/a/release`);
    await settled(engine, id);
  });

  it("names a standard WebSocket, not a hibernatable one, and an alarm due before it would hibernate", async () => {
    const { engine, url } = await open();
    const hws = await socket(`ws://${url}/n/b/hws?user=ada`);
    const id = await idOf(engine, "b");
    const withHibernatable = await controlApi(engine).whyAwake(id);
    expect(withHibernatable.reasons.some((r) => r.kind === "standard-websocket")).toBe(false);

    const ws = await socket(`ws://${url}/n/b/ws`);
    expect(await reply(ws, "hi")).toBe("echo hi");
    const pinned = await controlApi(engine).whyAwake(id);
    expect(pinned.reasons).toContainEqual(
      expect.objectContaining({ kind: "standard-websocket", blocks: true }),
    );
    expect(pinned.reasons.find((r) => r.kind === "standard-websocket")!.detail).toMatch(
      /1 WebSocket accepted with ws\.accept\(\).*ctx\.acceptWebSocket\(\)/,
    );
    expect(pinned.hibernatesAt).toBeNull();
    ws.close();
    hws.close();
    await until(
      async () =>
        !(await controlApi(engine).whyAwake(id)).reasons.some((r) => r.kind === "standard-websocket"),
      "the standard socket to close",
    );

    await fetch(`http://${url}/n/b/alarm?in=30000`);
    await settled(engine, id);
    const alarm = await controlApi(engine).whyAwake(id);
    expect(alarm.alarmAt).not.toBeNull();
    expect(alarm.reasons).toContainEqual(expect.objectContaining({ kind: "alarm", blocks: false }));
    expect((await controlApi(engine).getObject(id))!.awake?.reason).toBe("alarm due soon");

    await controlApi(engine).hibernate(id);
    const asleep = await controlApi(engine).whyAwake(id);
    expect(asleep).toMatchObject({ awake: false, state: "Hibernating", hibernatesAt: null, fields: null });
    expect(asleep.reasons).toEqual([expect.objectContaining({ kind: "alarm" })]);
    expect((await controlApi(engine).getObject(id))!.awake).toBeNull();
  });

  it("hibernates now and wakes, showing the fields lost and the socket attachments kept", async () => {
    const { engine, url } = await open();
    await fetch(`http://${url}/n/c/store`);
    await fetch(`http://${url}/n/c/`);
    const hws = await socket(`ws://${url}/n/c/hws?user=ada`);
    const id = await idOf(engine, "c");
    await settled(engine, id);

    const report = await controlApi(engine).hibernateAndWake(id);
    expect(report.wasAwake).toBe(true);
    expect(report.before).toMatchObject({ hits: "3", stored: "1" });
    expect(report.lost).toEqual(
      expect.arrayContaining([
        { field: "hits", before: "3", after: "0" },
        expect.objectContaining({ field: "cache", after: "Map(0) []" }),
      ]),
    );
    // Read from storage in the constructor: it survives.
    expect(report.kept).toContain("stored");
    expect(report.sockets).toEqual([expect.objectContaining({ tags: ["h"] })]);
    expect(report.sockets[0]!.attachmentBytes).toBeGreaterThan(0);

    // The transitions say what happened, and the socket answers from the new instance with its attachment.
    const to = (await controlApi(engine).transitions({ objectId: id, limit: 4 })).map((t) => t.to);
    expect(to).toEqual(["Idle", "Hibernating", "Initializing", "Active"]);
    expect(await reply(hws, "again")).toBe('{"user":"ada"} again');
    hws.close();
    await until(
      async () =>
        (await controlApi(engine).objectSockets(id)).length === 0 &&
        (await controlApi(engine).getObject(id))!.inFlight === 0,
      "the socket's close to be delivered",
    );

    // Asleep already: it is only woken.
    expect(await controlApi(engine).hibernate(id)).toBe(true);
    const woken = await controlApi(engine).hibernateAndWake(id);
    expect(woken).toMatchObject({ wasAwake: false, before: null, lost: [] });
    expect((await controlApi(engine).getObject(id))!.state).toBe("Active");
  });
});
