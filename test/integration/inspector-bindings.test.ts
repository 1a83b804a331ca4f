import { existsSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { controlApi, unmaskedControlApi } from "../../runtime/api/control-api.ts";
import { MASK } from "../../runtime/api/secrets.ts";
import type { TransitionRecord } from "../../runtime/api/contract.ts";
import { Engine } from "../../runtime/engine.ts";
import { FakeClock } from "../../runtime/shared/clock.ts";
import { enginesPerTest, request, tempProject, until } from "../helpers/project.ts";

const engines = enginesPerTest();

const closing: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const fn of closing.splice(0)) await fn();
});

describe("the KV browser's control methods", () => {
  it("lists, reads, writes and deletes keys on the namespace the Worker uses, with the binding's rules", async () => {
    const { engine } = await engines.open("kv");
    const api = controlApi(engine);
    expect((await request(engine, "POST", "/put?key=user:1&value=ada")).status).toBe(200);

    const [ns] = await api.kvNamespaces();
    expect(ns).toEqual({
      namespace: "sessions-id",
      bindings: [{ worker: "kv-fixture", binding: "SESSIONS" }],
      keys: 1,
      bytes: 3,
    });

    // Writes from the Inspector: the running Worker reads them at once.
    for (const k of ["user:2", "user:3", "user:4", "team:1"])
      await api.kvPut({ namespace: "sessions-id", key: k, value: `v-${k}` });
    await api.kvPut({
      namespace: "sessions-id",
      key: "user:1",
      value: '{"name":"Ada"}',
      metadata: { by: "inspector" },
      expirationTtl: 3600,
    });
    expect((await request(engine, "GET", "/get?key=user:1")).json).toEqual({
      value: '{"name":"Ada"}',
      metadata: { by: "inspector" },
      cacheStatus: null,
    });

    // A prefix, a page at a time.
    const first = await api.kvList({ namespace: "sessions-id", prefix: "user:", limit: 3 });
    expect(first.keys.map((k) => k.name)).toEqual(["user:1", "user:2", "user:3"]);
    expect(first.cursor).not.toBeNull();
    expect(first.keys[0]!.metadata).toEqual({ by: "inspector" });
    expect(first.keys[0]!.expiration).toBeGreaterThan(Date.now() / 1000 + 3500);
    expect(first.keys[1]!.expiration).toBeNull();
    const second = await api.kvList({
      namespace: "sessions-id",
      prefix: "user:",
      limit: 3,
      cursor: first.cursor!,
    });
    expect(second).toEqual({ keys: [{ name: "user:4", expiration: null, metadata: null }], cursor: null });

    const json = await api.kvGet({ namespace: "sessions-id", key: "user:1" });
    expect(json).toMatchObject({
      kind: "json",
      text: '{"name":"Ada"}',
      size: 14,
      metadata: { by: "inspector" },
    });
    expect((await api.kvGet({ namespace: "sessions-id", key: "team:1" }))?.kind).toBe("text");

    // Bytes that are not UTF-8: shown as hex and base64.
    await api.kvPut({ namespace: "sessions-id", key: "blob", value: "AP/+gA==", encoding: "base64" });
    expect(await api.kvGet({ namespace: "sessions-id", key: "blob" })).toMatchObject({
      kind: "binary",
      size: 4,
      text: null,
      hex: "00fffe80",
      base64: "AP/+gA==",
    });

    // The binding's limits and workerd's messages.
    await expect(
      api.kvPut({ namespace: "sessions-id", key: "k", value: "v", expirationTtl: 30 }),
    ).rejects.toThrow("KV PUT failed: 400 Invalid expiration_ttl of 30. Expiration TTL must be at least 60.");
    await expect(
      api.kvPut({ namespace: "sessions-id", key: "k", value: "v", metadata: { big: "x".repeat(2000) } }),
    ).rejects.toThrow(/KV PUT failed: 413 Metadata length of \d+ exceeds limit of 1024/);
    await expect(api.kvPut({ namespace: "sessions-id", key: "..", value: "v" })).rejects.toThrow(
      '".." is not allowed as a key name.',
    );
    await expect(api.kvList({ namespace: "nope" })).rejects.toThrow(
      /no running Worker binds a KV namespace nope/,
    );

    await api.kvDelete({ namespace: "sessions-id", key: "user:1" });
    expect((await request(engine, "GET", "/get?key=user:1")).json).toMatchObject({ value: null });
    expect(await api.kvGet({ namespace: "sessions-id", key: "user:1" })).toBeNull();
  });

  it("refuses arguments that do not fit the schema before they reach the store", async () => {
    const { engine } = await engines.open("kv");
    const api = controlApi(engine);
    await expect(
      api.kvPut({ namespace: "sessions-id", key: "k", value: "v", expiration: 1, expirationTtl: 60 }),
    ).rejects.toThrow(/expiration or expirationTtl, not both/);
    await expect(api.kvList({ namespace: "sessions-id", cursor: "not a cursor!" })).rejects.toThrow(/cursor/);
  });
});

describe("rate limiters and Analytics Engine datasets", () => {
  it("shows each limiter's configuration, this window's counts per key and its latest calls", async () => {
    // The limiter's window comes from the engine's clock: a fake one never crosses a minute mid-test.
    const clock = new FakeClock();
    const { engine } = await engines.open("small-bindings", { clock });
    const api = controlApi(engine);
    for (let i = 0; i < 3; i++) await request(engine, "GET", "/entry?key=alice");
    await request(engine, "GET", "/room?key=bob");

    const [limiter] = await api.rateLimiters();
    expect(limiter).toMatchObject({
      worker: "small-bindings",
      binding: "LIMITER",
      namespaceId: "1",
      limit: 2,
      period: 60,
      allowed: 3,
      limited: 1,
    });
    expect(limiter!.counts).toEqual([
      { key: "alice", count: 2 },
      { key: "bob", count: 1 },
    ]);
    expect(limiter!.recent.map((c) => [c.key, c.allowed])).toEqual([
      ["bob", true],
      ["alice", false],
      ["alice", true],
      ["alice", true],
    ]);
    expect(limiter!.windowStart).toBe(Math.floor(clock.now() / 60_000) * 60_000);
    expect(limiter!.windowEnd! - limiter!.windowStart!).toBe(60_000);
    // The next window starts empty; the latest calls stay listed.
    await clock.advance(60_000);
    const [later] = await api.rateLimiters();
    expect(later).toMatchObject({ windowStart: null, counts: [], allowed: 3, limited: 1 });
    expect(later!.recent).toHaveLength(4);

    expect(await api.analyticsDatasets()).toEqual([
      { worker: "small-bindings", binding: "EVENTS", dataset: "page_views", points: 4 },
    ]);
    const points = await api.dataPoints({ binding: "EVENTS" });
    expect(points[0]).toMatchObject({ dataset: "page_views", blobs: ["room", "bob"], doubles: [2] });
  });
});

/** The workers fixture run as `-c wrangler.jsonc -c back/wrangler.jsonc`. */
async function openWorkers(): Promise<{ engine: Engine; dir: string }> {
  const p = tempProject("workers");
  const engine = await Engine.open({
    projectDir: p.dir,
    dataDir: p.dataDir,
    configs: [join(p.dir, "wrangler.jsonc"), join(p.dir, "back", "wrangler.jsonc")],
    lifecycle: { poolSize: 1 },
  });
  closing.push(async () => {
    await engine.close();
    p.cleanup();
  });
  return { engine, dir: p.dir };
}

describe("other Workers' Durable Objects", () => {
  it("lists the objects of the Worker that owns the class, with where they are kept", async () => {
    const { engine } = await openWorkers();
    expect((await request(engine, "GET", "/count")).json).toEqual({ count: 1 });
    const [back] = await controlApi(engine).workerObjects();
    expect(back).toMatchObject({ worker: "back", configFile: "back/wrangler.jsonc", classes: ["Counter"] });
    expect(back!.dataDir).toBe(join(engine.dataDir, "workers", "back"));
    expect(back!.objects).toHaveLength(1);
    expect(back!.objects[0]).toMatchObject({ className: "Counter", name: "visits" });
    // The project's own Worker has none of them.
    expect((await controlApi(engine).listObjects()).total).toBe(0);

    // Its page reads that Worker's registry and files: summary, lifecycle, storage.
    const api = controlApi(engine);
    const id = back!.objects[0]!.id;
    expect(await api.getObject(id)).toMatchObject({ worker: "back", className: "Counter", name: "visits" });
    const transitions = await api.transitions({ objectId: id });
    expect(transitions.map((t) => t.to)).toContain("Active");
    expect((await api.listKv({ objectId: id })).map((e) => [e.key, e.preview])).toEqual([["n", "1"]]);
    expect((await api.query({ objectId: id, sql: "SELECT count(*) AS n FROM _cf_KV" })).rows).toEqual([[1]]);
    expect(await api.alarms(id)).toEqual([]);
  });

  it("gives them the project Worker's objects' actions, run in their Worker, and streams their transitions", async () => {
    const { engine } = await openWorkers();
    const api = controlApi(engine);
    const live: TransitionRecord[] = [];
    const off = api.subscribe((batch) => {
      for (const e of batch) if (e.type === "transition") live.push(e.data);
    });
    closing.push(async () => off());
    expect((await request(engine, "GET", "/count")).json).toEqual({ count: 1 });
    const [back] = await api.workerObjects();
    const id = back!.objects[0]!.id;
    await until(
      () => live.some((t) => t.objectId === id && t.worker === "back" && t.to === "Active"),
      "the back Worker's object's transitions in the live stream",
    );

    // Hibernate it, then write on its file while it sleeps.
    expect(await api.hibernate(id)).toBe(true);
    expect((await api.getObject(id))?.state).toBe("Hibernating");
    await api.writeSql({ objectId: id, sql: "CREATE TABLE notes (t TEXT)" });
    await api.writeSql({ objectId: id, sql: "INSERT INTO notes VALUES (?)", params: ["kept"] });
    // A snapshot kept in that Worker's folder, restored after the row is deleted.
    const snap = await api.takeSnapshot({ objectId: id, label: "with a note" });
    expect((await api.snapshots(id)).map((s) => s.id)).toEqual([snap.id]);
    expect(existsSync(join(engine.dataDir, "workers", "back", "snapshots", "Counter", id))).toBe(true);
    await api.writeSql({ objectId: id, sql: "DELETE FROM notes" });
    await api.restoreSnapshot({ objectId: id, snapshotId: snap.id });
    expect((await api.query({ objectId: id, sql: "SELECT t FROM notes" })).rows).toEqual([["kept"]]);

    // Its next call wakes it on the restored file, its count intact; a write while it is live runs in its worker.
    expect((await request(engine, "GET", "/count")).json).toEqual({ count: 2 });
    await api.writeSql({ objectId: id, sql: "INSERT INTO notes VALUES ('live')" });
    expect((await api.query({ objectId: id, sql: "SELECT count(*) FROM notes" })).rows).toEqual([[2]]);
    expect(await api.terminate(id)).toBe(true);
    expect(await api.getObject(id)).toBeNull();
    // The project Worker's own table never saw them.
    expect((await api.listObjects()).total).toBe(0);
  });
});

describe("secrets never reach the UI in clear", () => {
  it("masks a .dev.vars value in responses, the request history, logs and the live stream", async () => {
    const { engine } = await engines.open("secrets");
    const api = controlApi(engine);
    const live: string[] = [];
    const off = api.subscribe((batch) => live.push(JSON.stringify(batch)));
    closing.push(async () => off());

    // The code got the real value; the UI's answer has it masked.
    expect(
      JSON.parse((await unmaskedControlApi(engine).sendRequest({ method: "GET", path: "/" })).body),
    ).toEqual({
      token: "tok-4f2a9c",
      short: "on",
    });
    const shown = await api.sendRequest({ method: "GET", path: "/" });
    expect(JSON.parse(shown.body)).toEqual({ token: MASK, short: "on" });

    // A request the user typed with the secret in it: kept as typed, listed masked.
    await api.addRequestHistory({
      time: Date.now(),
      request: { method: "GET", path: "/?t=tok-4f2a9c", headers: [["authorization", "Bearer tok-4f2a9c"]] },
      status: 200,
      durationMs: 1,
    });
    const history = JSON.stringify(await api.requestHistory());
    expect(history).toContain(`/?t=${MASK}`);
    expect(history).not.toContain("tok-4f2a9c");

    await until(async () => (await api.logs()).some((l) => l.message.startsWith("token is")), "the log line");
    const logs = await api.logs();
    expect(logs.find((l) => l.message.startsWith("token is"))!.message).toBe(`token is ${MASK}`);
    await until(() => live.some((b) => b.includes("token is")), "the live log line");
    expect(live.join("")).not.toContain("tok-4f2a9c");

    // What the router sends the WebSocket console is masked through the engine too.
    expect(await api.maskTexts(["echo: hi (token tok-4f2a9c)", "on"])).toEqual([
      `echo: hi (token ${MASK})`,
      "on",
    ]);

    // The editor reads the file as it is (it masks it itself until the user reveals it).
    expect((await api.readFile(".dev.vars")).text).toContain("tok-4f2a9c");
  });
});
