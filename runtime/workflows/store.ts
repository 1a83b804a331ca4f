import { join } from "node:path";
import { deserialize, serialize } from "node:v8";
import type Database from "better-sqlite3";
import type { WorkflowStatusName } from "../bindings/workflow-calls.ts";
import { openDatabase } from "../shared/sqlite.ts";
import type { StepRecord } from "./records.ts";

/**
 * `<data>/workflows.sqlite`: every instance of the project's workflows, its
 * steps (results, attempts, wake-up times) and the events sent to it, as
 * named statements prepared once.
 */

const MIGRATIONS = [
  `CREATE TABLE instances (
     binding TEXT NOT NULL,
     id TEXT NOT NULL,
     status TEXT NOT NULL,
     params BLOB NOT NULL,
     created_at INTEGER NOT NULL,
     updated_at INTEGER NOT NULL,
     output BLOB,
     error TEXT,
     run INTEGER NOT NULL DEFAULT 0,
     paused_at INTEGER,
     PRIMARY KEY (binding, id)
   );
   CREATE TABLE steps (
     binding TEXT NOT NULL,
     instance TEXT NOT NULL,
     key TEXT NOT NULL,
     kind TEXT NOT NULL,
     name TEXT NOT NULL,
     state TEXT NOT NULL,
     started_at INTEGER NOT NULL,
     ended_at INTEGER,
     wake_at INTEGER,
     attempts TEXT NOT NULL DEFAULT '[]',
     config TEXT,
     output BLOB,
     error TEXT,
     event_type TEXT,
     done_seq INTEGER,
     seq INTEGER NOT NULL,
     PRIMARY KEY (binding, instance, key)
   );
   CREATE INDEX steps_order ON steps(binding, instance, seq);
   CREATE TABLE events (
     seq INTEGER PRIMARY KEY,
     binding TEXT NOT NULL,
     instance TEXT NOT NULL,
     type TEXT NOT NULL,
     payload BLOB NOT NULL,
     received_at INTEGER NOT NULL,
     consumed_by TEXT
   );
   CREATE INDEX events_pending ON events(binding, instance, type, consumed_by, seq);`,
];

export type InstanceRow = {
  binding: string;
  id: string;
  status: WorkflowStatusName;
  params: Buffer;
  created_at: number;
  updated_at: number;
  output: Buffer | null;
  error: string | null;
  run: number;
  paused_at: number | null;
};

export type StepRow = {
  binding: string;
  instance: string;
  key: string;
  kind: StepRecord["kind"];
  name: string;
  state: StepRecord["state"];
  started_at: number;
  ended_at: number | null;
  wake_at: number | null;
  attempts: string;
  config: string | null;
  output: Buffer | null;
  error: string | null;
  event_type: string | null;
  done_seq: number | null;
  seq: number;
};

export type EventRow = {
  seq: number;
  type: string;
  payload: Buffer;
  received_at: number;
  consumed_by: string | null;
};

/** The statuses an instance does not leave (but by a restart). */
export const FINITE: readonly WorkflowStatusName[] = ["complete", "errored", "terminated"];

export const blob = (v: unknown): Buffer => serialize(v);
export const unblob = (b: Buffer | null): unknown => (b === null ? null : deserialize(b));

/** The key of an instance in the engine's maps. */
export function instanceKey(binding: string, id: string): string {
  return `${binding}\0${id}`;
}

/** A value as readable text for the Inspector (JSON where it can be, a description where not). */
export function preview(value: unknown, max = 4096): string {
  let text: string;
  try {
    text =
      JSON.stringify(value, (_k, v: unknown) =>
        typeof v === "bigint"
          ? `${v}n`
          : v instanceof Map
            ? Object.fromEntries(v)
            : v instanceof Set
              ? [...v]
              : ArrayBuffer.isView(v)
                ? `[${v.constructor.name} ${v.byteLength} bytes]`
                : v,
      ) ?? "undefined";
  } catch {
    text = String(value);
  }
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

export type Statements = ReturnType<typeof statements>;

/** The store's statements, prepared once on its database. */
export function statements(db: Database.Database) {
  return {
    instance: db.prepare<[string, string], InstanceRow>(
      "SELECT * FROM instances WHERE binding = ? AND id = ?",
    ),
    insertInstance: db.prepare<[string, string, Buffer, number, number]>(
      "INSERT OR IGNORE INTO instances (binding, id, status, params, created_at, updated_at) VALUES (?, ?, 'queued', ?, ?, ?)",
    ),
    setStatus: db.prepare<[string, number, string, string]>(
      "UPDATE instances SET status = ?, updated_at = ? WHERE binding = ? AND id = ?",
    ),
    finish: db.prepare<[string, Buffer | null, string | null, number, string, string]>(
      "UPDATE instances SET status = ?, output = ?, error = ?, updated_at = ? WHERE binding = ? AND id = ?",
    ),
    newRun: db.prepare<[string, number, string, string]>(
      "UPDATE instances SET status = ?, run = run + 1, updated_at = ? WHERE binding = ? AND id = ?",
    ),
    pausedAt: db.prepare<[number | null, string, string]>(
      "UPDATE instances SET paused_at = ? WHERE binding = ? AND id = ?",
    ),
    active: db.prepare<[], InstanceRow>(
      "SELECT * FROM instances WHERE status IN ('queued', 'running', 'waitingForPause') ORDER BY created_at",
    ),
    step: db.prepare<[string, string, string], StepRow>(
      "SELECT * FROM steps WHERE binding = ? AND instance = ? AND key = ?",
    ),
    insertStep: db.prepare<
      [
        string,
        string,
        string,
        string,
        string,
        string,
        number,
        number | null,
        string | null,
        string | null,
        number,
      ]
    >(
      `INSERT INTO steps (binding, instance, key, kind, name, state, started_at, wake_at, config, event_type, seq)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ),
    updateStep: db.prepare<
      [
        string,
        number | null,
        number | null,
        string,
        Buffer | null,
        string | null,
        number | null,
        string,
        string,
        string,
      ]
    >(
      `UPDATE steps SET state = ?, ended_at = ?, wake_at = ?, attempts = ?, output = ?, error = ?, done_seq = ?
       WHERE binding = ? AND instance = ? AND key = ?`,
    ),
    steps: db.prepare<[string, string], StepRow>(
      "SELECT * FROM steps WHERE binding = ? AND instance = ? ORDER BY seq",
    ),
    outputs: db.prepare<[string, string], StepRow>(
      "SELECT * FROM steps WHERE binding = ? AND instance = ? AND state = 'done' AND kind IN ('do', 'wait') ORDER BY done_seq",
    ),
    nextStepSeq: db.prepare<[string, string], { s: number }>(
      "SELECT coalesce(max(seq), -1) + 1 AS s FROM steps WHERE binding = ? AND instance = ?",
    ),
    countSteps: db.prepare<[string, string], { n: number }>(
      "SELECT count(*) AS n FROM steps WHERE binding = ? AND instance = ?",
    ),
    shiftWakes: db.prepare<[number, string, string]>(
      "UPDATE steps SET wake_at = wake_at + ? WHERE binding = ? AND instance = ? AND wake_at IS NOT NULL AND state IN ('sleeping', 'waiting', 'retrying')",
    ),
    clearSteps: db.prepare<[string, string]>("DELETE FROM steps WHERE binding = ? AND instance = ?"),
    clearEvents: db.prepare<[string, string]>("DELETE FROM events WHERE binding = ? AND instance = ?"),
    insertEvent: db.prepare<[string, string, string, Buffer, number]>(
      "INSERT INTO events (binding, instance, type, payload, received_at) VALUES (?, ?, ?, ?, ?)",
    ),
    nextEvent: db.prepare<[string, string, string], EventRow>(
      "SELECT * FROM events WHERE binding = ? AND instance = ? AND type = ? AND consumed_by IS NULL ORDER BY seq LIMIT 1",
    ),
    consume: db.prepare<[string, number]>("UPDATE events SET consumed_by = ? WHERE seq = ?"),
    events: db.prepare<[string, string], EventRow>(
      "SELECT * FROM events WHERE binding = ? AND instance = ? ORDER BY seq",
    ),
    list: db.prepare<[string, number], InstanceRow>(
      "SELECT * FROM instances WHERE binding = ? ORDER BY created_at DESC, id LIMIT ?",
    ),
    counts: db.prepare<[string], { status: WorkflowStatusName; n: number }>(
      "SELECT status, count(*) AS n FROM instances WHERE binding = ? GROUP BY status",
    ),
    maxSeq: db.prepare<[], { s: number | null }>("SELECT max(coalesce(done_seq, 0)) AS s FROM steps"),
  };
}

export function openStore(dataDir: string): { db: Database.Database; stmt: Statements } {
  const db = openDatabase(join(dataDir, "workflows.sqlite"), MIGRATIONS);
  return { db, stmt: statements(db) };
}
