import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterEach, describe, expect, it } from "vitest";
import { figure, sandbox, startServe, until, type Sandbox, type Server } from "./harness.ts";

// Durability under kill -9 (docs/reliability.md, "Durability"): every write
// answered 200 is on disk after the serve process is killed without warning,
// each SQLite file passes integrity_check, and the registry, alarms and
// event deliveries pick up where they were.

let box: Sandbox | null = null;
let server: Server | null = null;

afterEach(async () => {
  await server?.kill9();
  server = null;
  box?.cleanup();
  box = null;
});

const TOTAL = 1_000;
const CLIENTS = 50;
const OBJECTS = 10;
/** The kills happen when this many writes of the run have been answered. */
const KILL_POINTS = [0.2, 0.5, 0.8].map((f) => Math.floor(TOTAL * f));

function integrity(file: string): string {
  const db = new Database(file, { fileMustExist: true });
  try {
    return (db.pragma("integrity_check", { simple: true }) as string) ?? "no answer";
  } finally {
    db.close();
  }
}

/** Every SQLite file the data folder holds: each object's, the registry's, the state's and the bus's. */
function sqliteFiles(dataDir: string): string[] {
  const files = ["registry.sqlite", "state.sqlite", "events.sqlite"]
    .map((f) => join(dataDir, f))
    .filter((f) => existsSync(f));
  const objects = join(dataDir, "objects");
  for (const cls of existsSync(objects) ? readdirSync(objects) : []) {
    for (const f of readdirSync(join(objects, cls))) {
      if (f.endsWith(".sqlite")) files.push(join(objects, cls, f));
    }
  }
  return files;
}

function registryIds(dataDir: string): Set<string> {
  const db = new Database(join(dataDir, "registry.sqlite"), { fileMustExist: true });
  try {
    return new Set((db.prepare("SELECT id FROM objects").all() as { id: string }[]).map((r) => r.id));
  } finally {
    db.close();
  }
}

/** Object files (by id) of one class. */
function objectFileIds(dataDir: string, className: string): string[] {
  const dir = join(dataDir, "objects", className);
  return existsSync(dir)
    ? readdirSync(dir)
        .filter((f) => f.endsWith(".sqlite"))
        .map((f) => f.slice(0, -".sqlite".length))
    : [];
}

async function getJson<T>(url: string): Promise<T> {
  const r = await fetch(url, { signal: AbortSignal.timeout(30_000) });
  if (r.status !== 200) throw new Error(`${url}: ${r.status} ${await r.text()}`);
  return (await r.json()) as T;
}

describe("durability under kill -9", () => {
  it.each([
    ["one SQL row", "rows", "Rows"],
    ["one storage.put", "kv", "Kv"],
  ])(
    "keeps every answered write (%s per request) across three kills mid-run",
    async (_what, kind, className) => {
      box = sandbox("faults");
      const acked = new Set<number>();
      let sent = 0;
      let failed = 0;
      let next = 0;
      let kills = 0;
      const lostPerKill: number[] = [];

      for (let phase = 0; phase <= KILL_POINTS.length; phase++) {
        server = await startServe(box, ["--quiet"]);
        const live = server;
        // After a restart: everything answered so far is there.
        if (phase > 0) {
          const present = new Set<number>();
          for (let o = 0; o < OBJECTS; o++) {
            for (const s of await getJson<number[]>(`${live.url}/${kind}-seqs/o${o}`)) present.add(s);
          }
          const lost = [...acked].filter((s) => !present.has(s));
          lostPerKill.push(lost.length);
          expect(lost, `answered writes missing after kill ${phase}`).toEqual([]);
        }
        const target = KILL_POINTS[phase] ?? TOTAL;
        let answered = acked.size;
        let killing: Promise<unknown> | null = null;
        await Promise.all(
          Array.from({ length: CLIENTS }, async () => {
            while (next < TOTAL && !killing) {
              const seq = next++;
              sent++;
              try {
                const r = await fetch(`${live.url}/${kind}/o${seq % OBJECTS}/${seq}`, {
                  method: "POST",
                  signal: AbortSignal.timeout(30_000),
                });
                if (r.status === 200 && (await r.json()) === seq) {
                  acked.add(seq);
                  if (++answered >= target && phase < KILL_POINTS.length) killing ??= live.kill9();
                } else failed++;
              } catch {
                failed++;
              }
            }
          }),
        );
        if (killing) {
          expect(await killing).toBe("SIGKILL");
          kills++;
          server = null;
          // Straight after the kill, before anything reopens them: every file is sound.
          for (const f of sqliteFiles(box.dataDir)) expect(integrity(f), f).toBe("ok");
        }
      }
      // The last phase ran to the end without a kill.
      await server!.kill9();
      server = null;
      for (const f of sqliteFiles(box.dataDir)) expect(integrity(f), f).toBe("ok");
      const ids = registryIds(box.dataDir);
      const files = objectFileIds(box.dataDir, className);
      expect(files).toHaveLength(OBJECTS);
      expect(files.filter((id) => !ids.has(id))).toEqual([]);
      expect(kills).toBe(3);
      figure(`kill -9 durability (${kind})`, {
        sent,
        answered200: acked.size,
        unanswered: failed,
        kills,
        lostPerKill,
      });
    },
    240_000,
  );

  it("fires an alarm, delivers an event and lists a new object that were pending at the kill", async () => {
    box = sandbox("faults");
    server = await startServe(box, ["--quiet"]);
    const url = server.url;
    const before = Date.now();
    // An alarm 1.5 s away and an event its subscriber refuses for 1.5 s: both pending at the kill.
    expect(await getJson<number>(`${url}/rows-alarm/alarmed/1500`)).toBeGreaterThan(before);
    const { id: eventId } = await getJson<{ id: number }>(`${url}/publish/x/1500`);
    // An object created just before the kill.
    expect(await getJson<number>(`${url}/rows/fresh/7`)).toBe(7);
    expect(await server.kill9()).toBe("SIGKILL");
    const killedAt = Date.now();
    server = null;

    for (const f of sqliteFiles(box.dataDir)) expect(integrity(f), f).toBe("ok");
    const state = new Database(join(box.dataDir, "state.sqlite"), { fileMustExist: true });
    expect(state.prepare("SELECT COUNT(*) AS n FROM alarms").get()).toEqual({ n: 1 });
    state.close();
    const bus = new Database(join(box.dataDir, "events.sqlite"), { fileMustExist: true });
    expect(bus.prepare("SELECT status FROM deliveries WHERE event_seq = ?").get(eventId)).toEqual({
      status: "pending",
    });
    bus.close();
    // Every object that has a file has a registry record, the one created last included.
    const ids = registryIds(box.dataDir);
    const missing = objectFileIds(box.dataDir, "Rows").filter((id) => !ids.has(id));
    expect(missing, "objects on disk the registry does not know").toEqual([]);

    server = await startServe(box, ["--quiet"]);
    const again = server.url;
    await until(
      async () => (await getJson<number[]>(`${again}/rows-fired/alarmed`)).length === 1,
      "the alarm set before the kill to fire",
    );
    const [firedAt] = await getJson<number[]>(`${again}/rows-fired/alarmed`);
    expect(firedAt).toBeGreaterThanOrEqual(killedAt);
    await until(
      async () => (await getJson<number[]>(`${again}/seen`)).includes(eventId),
      "the event published before the kill to be delivered",
    );
    expect(await getJson<number[]>(`${again}/rows-seqs/fresh`)).toEqual([7]);
  }, 120_000);
});
