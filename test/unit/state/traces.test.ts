import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { TraceLinks, TraceStore, type SpanKind } from "../../../runtime/state/traces.ts";

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function store(opts: { maxTraces?: number } = {}): { store: TraceStore; dir: string } {
  const dir = mkdtempSync(join(tmpdir(), "terrarium-traces-"));
  dirs.push(dir);
  return { store: new TraceStore(dir, opts), dir };
}

/** One request's trace: a root, an entry span and an object span, with a status. */
function request(
  s: TraceStore,
  path: string,
  status: number,
  object: { className: string; name: string; id: string; kind?: SpanKind },
): string {
  const root = s.begin(null, "request", { name: `GET ${path}`, method: "GET", path });
  const entry = s.begin(root.ctx, "entry", { name: `GET ${path}` });
  const obj = s.begin(entry.ctx, object.kind ?? "fetch", {
    name: `GET ${path}`,
    className: object.className,
    objectName: object.name,
    objectId: object.id,
    state: "Hibernating",
  });
  obj.status = status;
  s.end(obj, status >= 500 ? "Error: boom" : null);
  entry.status = status;
  s.end(entry);
  root.status = status;
  s.end(root);
  return root.ctx.t;
}

const A = { className: "Room", name: "lobby", id: "a".repeat(64) };
const B = { className: "User", name: "ada", id: "b".repeat(64) };

describe("TraceStore", () => {
  it("keeps a trace's spans as a tree, the root first", () => {
    const { store: s } = store();
    const id = request(s, "/rooms/lobby", 200, A);
    const t = s.get(id)!;
    expect(t).toMatchObject({
      path: "/rooms/lobby",
      method: "GET",
      status: 200,
      spanCount: 3,
      classes: ["Room"],
    });
    expect(t.spans.map((x) => x.kind)).toEqual(["request", "entry", "fetch"]);
    expect(t.spans[1]!.parentId).toBe(t.spans[0]!.spanId);
    expect(t.spans[2]!.parentId).toBe(t.spans[1]!.spanId);
    expect(t.spans[2]).toMatchObject({
      className: "Room",
      objectName: "lobby",
      state: "Hibernating",
      status: 200,
    });
    expect(s.get("f".repeat(32))).toBeNull();
  });

  it("adds spans and logs that come after the root ended to its trace", () => {
    const { store: s } = store();
    const root = s.begin(null, "request", { name: "POST /x", method: "POST", path: "/x" });
    const publish = s.begin(root.ctx, "publish", { name: "publish t" });
    s.end(publish);
    s.end(root);
    s.flush();
    const delivery = s.begin(publish.ctx, "event", {
      name: "event t",
      className: "Mailer",
      objectName: "m",
      objectId: "c".repeat(64),
    });
    s.log(delivery.ctx, {
      spanId: delivery.ctx.s,
      time: Date.now(),
      level: "log",
      message: "sent",
      objectId: null,
    });
    s.end(delivery);
    const t = s.get(root.ctx.t)!;
    expect(t.spanCount).toBe(3);
    expect(t.classes).toEqual(["Mailer"]);
    expect(t.spans.find((x) => x.kind === "event")!.parentId).toBe(publish.ctx.s);
    expect(t.logs).toEqual([expect.objectContaining({ spanId: delivery.ctx.s, message: "sent" })]);
    expect(s.list({ object: "Mailer" }).map((x) => x.traceId)).toEqual([root.ctx.t]);
  });

  it("searches by path, status and object, newest first, and pages with before", () => {
    const { store: s } = store();
    request(s, "/rooms/lobby", 200, A);
    request(s, "/users/ada", 404, B);
    request(s, "/rooms/lobby/join", 503, A);
    request(s, "/users/ada/rpc", 200, { ...B, kind: "rpc" });
    const paths = (q: Parameters<TraceStore["list"]>[0]): (string | null)[] => s.list(q).map((t) => t.path);
    expect(paths({})).toEqual(["/users/ada/rpc", "/rooms/lobby/join", "/users/ada", "/rooms/lobby"]);
    expect(paths({ path: "/rooms" })).toEqual(["/rooms/lobby/join", "/rooms/lobby"]);
    expect(paths({ status: "404" })).toEqual(["/users/ada"]);
    expect(paths({ status: "4xx" })).toEqual(["/users/ada"]);
    expect(paths({ status: "error" })).toEqual(["/rooms/lobby/join"]);
    expect(paths({ status: "ok" })).toEqual(["/users/ada/rpc", "/rooms/lobby"]);
    expect(paths({ object: "User" })).toEqual(["/users/ada/rpc", "/users/ada"]);
    expect(paths({ object: "lobby" })).toEqual(["/rooms/lobby/join", "/rooms/lobby"]);
    expect(paths({ object: "bbbbbbbb" })).toEqual(["/users/ada/rpc", "/users/ada"]);
    expect(paths({ object: "Room", status: "5xx" })).toEqual(["/rooms/lobby/join"]);
    expect(paths({ limit: 2 })).toEqual(["/users/ada/rpc", "/rooms/lobby/join"]);
    const second = s.list({ limit: 2 })[1]!;
    expect(paths({ before: second.seq })).toEqual(["/users/ada", "/rooms/lobby"]);
    expect(() => s.list({ status: "teapot" })).toThrow(/status filter/);
  });

  it("keeps at most maxTraces: the oldest are dropped with their spans and logs", () => {
    const { store: s } = store({ maxTraces: 5 });
    const ids: string[] = [];
    for (let i = 0; i < 12; i++) {
      ids.push(request(s, `/n/${i}`, 200, A));
      const t = ids[i]!;
      s.log(
        { t, s: "00" },
        { spanId: "00", time: Date.now(), level: "log", message: `line ${i}`, objectId: null },
      );
      if (i % 4 === 3) s.flush();
    }
    expect(s.count()).toBe(5);
    expect(s.list({}).map((t) => t.path)).toEqual(["/n/11", "/n/10", "/n/9", "/n/8", "/n/7"]);
    expect(s.get(ids[0]!)).toBeNull();
    expect(s.get(ids[11]!)!.logs.map((l) => l.message)).toEqual(["line 11"]);
  });

  it("keeps its traces across a restart, and forgets them on clear", () => {
    const { store: s, dir } = store();
    const id = request(s, "/kept", 201, A);
    s.close();
    const again = new TraceStore(dir);
    expect(again.get(id)?.status).toBe(201);
    expect(again.count()).toBe(1);
    again.clear();
    expect(again.count()).toBe(0);
    expect(again.list()).toEqual([]);
    again.close();
  });
});

describe("TraceStore sampling", () => {
  it("traces at most perSecond new requests a second, and a share of them with sample", () => {
    let now = 5_000;
    const s = new TraceStore(null, { perSecond: 3, now: () => now });
    const taken = (store: TraceStore, n: number): number =>
      Array.from({ length: n }, () => store.sampled()).filter(Boolean).length;
    expect(taken(s, 10)).toBe(3);
    now += 1_000;
    expect(taken(s, 10)).toBe(3);
    const all = new TraceStore(null, { perSecond: Infinity, now: () => now });
    expect(taken(all, 500)).toBe(500);
    const none = new TraceStore(null, { sample: 0 });
    expect(taken(none, 50)).toBe(0);
    for (const x of [s, all, none]) x.close();
  });
});

describe("TraceLinks", () => {
  it("remembers the last max links", () => {
    const links = new TraceLinks<number>(2);
    links.set(1, { t: "a", s: "1" });
    links.set(2, { t: "b", s: "2" });
    links.set(3, { t: "c", s: "3" });
    expect(links.get(1)).toBeUndefined();
    expect(links.get(3)).toEqual({ t: "c", s: "3" });
  });
});
