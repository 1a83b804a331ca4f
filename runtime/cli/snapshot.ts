import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type Database from "better-sqlite3";
import { ProjectError } from "../config/errors.ts";
import { Engine } from "../engine.ts";
import { openSqlite } from "../shared/sqlite-native.ts";
import { servingInfo } from "../state/serving.ts";
import { SnapshotStore, type SnapshotInfo } from "../state/snapshots.ts";
import { diffStorage, type StorageDiff } from "../state/storage-diff.ts";
import { fail, projectFolder } from "./common.ts";
import { parseCommand, usageError } from "./commands.ts";
import { controlApi } from "../api/control-api.ts";

/**
 * `terrarium snapshot`, `restore` and `reset`. Taking, listing and diffing
 * snapshots only read objects' files (a read-only copy beside any writer),
 * so they work whether or not a Terrarium serves the data folder. Restore
 * and reset replace files under a running object, so they are refused while
 * another process serves the folder (its UI does them, stopping the object
 * first); otherwise they open the project here, as serve would, and do it
 * through the same engine path.
 */

interface ObjectRow {
  id: string;
  className: string;
  name: string | null;
}

export function dataFolder(projectDir: string, data: string | undefined): string {
  return data ? resolve(data) : join(projectDir, ".terrarium");
}

/** The objects the registry knows, read-only (a server may have it open). */
function knownObjects(dataDir: string): ObjectRow[] {
  const path = join(dataDir, "registry.sqlite");
  if (!existsSync(path)) fail(`no Terrarium data in ${dataDir} (run the project once, or pass --data DIR)`);
  let db: Database.Database | null = null;
  try {
    db = openSqlite(path, { readonly: true, fileMustExist: true });
    db.pragma("busy_timeout = 5000");
    return db
      .prepare("SELECT id, class_name AS className, name FROM objects ORDER BY class_name, name, id")
      .all() as ObjectRow[];
  } finally {
    db?.close();
  }
}

/** `--object` as an id, a unique id prefix (6+ digits) or an object's name; `--class` narrows it. */
function pickObject(dataDir: string, object: string | undefined, className: string | undefined): ObjectRow {
  if (!object) usageError("give the object: --object <id, id prefix or name> [--class NAME]");
  const all = knownObjects(dataDir).filter((o) => className === undefined || o.className === className);
  const exact = all.filter((o) => o.id === object);
  const found =
    exact.length > 0
      ? exact
      : all.filter((o) => o.name === object || (object.length >= 6 && o.id.startsWith(object.toLowerCase())));
  if (found.length === 1) return found[0]!;
  if (found.length === 0) fail(`no object matches "${object}"${className ? ` in class ${className}` : ""}`);
  const list = found
    .slice(0, 10)
    .map((o) => `  ${o.className} ${o.name ?? "(no name)"} ${o.id}`)
    .join("\n");
  return fail(`"${object}" matches ${found.length} objects; give the id or --class:\n${list}`);
}

export function when(t: number): string {
  return new Date(t)
    .toISOString()
    .replace("T", " ")
    .replace(/\.\d+Z$/, "Z");
}

function snapshotLine(s: SnapshotInfo): string {
  const who = `${s.className} ${s.objectName ?? s.objectId.slice(0, 12)}`;
  return `${s.id}  ${when(s.time)}  ${s.reason.padEnd(7)}  ${String(s.bytes).padStart(9)} B  ${who}${s.label ? `  "${s.label}"` : ""}`;
}

export function formatDiff(d: StorageDiff): string {
  if (d.same) return "no differences\n";
  const lines: string[] = [];
  for (const t of d.tables) {
    const c = t.counts;
    if (t.status === "both" && !t.schemaChanged && c.added + c.changed + c.removed === 0) continue;
    const what = t.status === "both" ? "" : ` (table ${t.status})`;
    lines.push(
      `table ${t.table}${what}${t.schemaChanged ? " (columns changed)" : ""}: +${c.added} added, ~${c.changed} changed, -${c.removed} removed (${c.before} -> ${c.after} rows)`,
    );
    for (const r of t.added) lines.push(`  + ${JSON.stringify(r)}`);
    for (const r of t.changed) lines.push(`  ~ ${JSON.stringify(r.before)} -> ${JSON.stringify(r.after)}`);
    for (const r of t.removed) lines.push(`  - ${JSON.stringify(r)}`);
  }
  const k = d.kv.counts;
  if (k.added + k.changed + k.removed > 0) {
    lines.push(
      `kv: +${k.added} added, ~${k.changed} changed, -${k.removed} removed (${k.before} -> ${k.after} keys)`,
    );
    for (const e of d.kv.added) lines.push(`  + ${e.key} = ${e.value}`);
    for (const e of d.kv.changed) lines.push(`  ~ ${e.key}: ${e.before} -> ${e.after}`);
    for (const e of d.kv.removed) lines.push(`  - ${e.key} = ${e.value}`);
  }
  return `${lines.join("\n")}\n`;
}

/** A read-only copy of an object's file as it is now (an empty database when it has none). */
function copyNow(dataDir: string, o: ObjectRow, dest: string): void {
  const path = join(dataDir, "objects", o.className, `${o.id}.sqlite`);
  if (!existsSync(path)) {
    openSqlite(dest).close();
    return;
  }
  const db = openSqlite(path, { readonly: true, fileMustExist: true });
  try {
    db.pragma("busy_timeout = 5000");
    db.exec(`VACUUM INTO '${dest.replaceAll("'", "''")}'`);
  } finally {
    db.close();
  }
}

function alarmOf(dataDir: string, id: string): number | null {
  const path = join(dataDir, "state.sqlite");
  if (!existsSync(path)) return null;
  const db = openSqlite(path, { readonly: true, fileMustExist: true });
  try {
    const row = db.prepare("SELECT time FROM alarms WHERE object_id = ?").get(id) as
      { time: number } | undefined;
    return row?.time ?? null;
  } finally {
    db.close();
  }
}

/** `terrarium snapshot [projectDir] --object X [--label T] | --list | --diff SNAP [--to SNAP]` */
export async function snapshotCommand(argv: string[]): Promise<void> {
  const { values, positionals } = parseCommand("snapshot", argv);
  const dataDir = dataFolder(projectFolder(positionals), values.data);
  const store = new SnapshotStore(dataDir);
  const object = values.object;
  const className = values.class;
  const json = values.json === true;

  if (values.list) {
    const objects = object ? [pickObject(dataDir, object, className)] : knownObjects(dataDir);
    const snaps = objects
      .filter((o) => className === undefined || o.className === className)
      .flatMap((o) => store.list(o.className, o.id))
      .sort((a, b) => b.time - a.time);
    if (json) process.stdout.write(`${JSON.stringify(snaps, null, 2)}\n`);
    else if (snaps.length === 0) process.stdout.write("no snapshots\n");
    else for (const s of snaps) process.stdout.write(`${snapshotLine(s)}\n`);
    return;
  }

  const o = pickObject(dataDir, object, className);
  if (values.diff !== undefined) {
    const from = store.find(values.diff);
    if (!from || from.objectId !== o.id)
      fail(`object ${o.id.slice(0, 12)} has no snapshot ${String(values.diff)}`);
    let diff: StorageDiff;
    if (values.to !== undefined) {
      const to = store.find(values.to);
      if (!to || to.objectId !== o.id)
        fail(`object ${o.id.slice(0, 12)} has no snapshot ${String(values.to)}`);
      diff = diffStorage(store.file(from), store.file(to));
    } else {
      const scratch = mkdtempSync(join(tmpdir(), "terrarium-diff-"));
      try {
        const now = join(scratch, "now.sqlite");
        copyNow(dataDir, o, now);
        diff = diffStorage(store.file(from), now);
      } finally {
        rmSync(scratch, { recursive: true, force: true });
      }
    }
    process.stdout.write(json ? `${JSON.stringify(diff, null, 2)}\n` : formatDiff(diff));
    return;
  }

  const label = values.label?.trim() || null;
  const snap = await store.add(
    {
      objectId: o.id,
      className: o.className,
      objectName: o.name,
      time: Date.now(),
      reason: "manual",
      label,
      alarm: alarmOf(dataDir, o.id),
    },
    (dest) => copyNow(dataDir, o, dest),
  );
  process.stdout.write(json ? `${JSON.stringify(snap, null, 2)}\n` : `${snapshotLine(snap)}\n`);
}

/** Restore and reset replace files: not under another process's running objects. */
export function refuseWhileServed(
  dataDir: string,
  command: string,
  where = "its UI (the object's page: Restore, Reset)",
): void {
  const serving = servingInfo(dataDir);
  if (serving && serving.pid !== process.pid) {
    fail(
      `a Terrarium (pid ${serving.pid}) is serving ${dataDir}; ${command} would replace files under its ` +
        `running objects. Use ${where}, or stop it and run this again`,
    );
  }
}

export async function withEngine<T>(
  projectDir: string,
  dataDir: string,
  fn: (e: Engine) => Promise<T>,
): Promise<T> {
  let engine: Engine;
  try {
    engine = await Engine.open({ projectDir, dataDir });
  } catch (e) {
    if (e instanceof ProjectError) fail(e.message);
    throw e;
  }
  try {
    return await fn(engine);
  } catch (e) {
    return fail(e instanceof Error ? e.message : String(e));
  } finally {
    await engine.close();
  }
}

/** `terrarium restore [projectDir] --snapshot ID` */
export async function restoreCommand(argv: string[]): Promise<void> {
  const { values, positionals } = parseCommand("restore", argv);
  const projectDir = projectFolder(positionals);
  const dataDir = dataFolder(projectDir, values.data);
  const id = values.snapshot;
  if (!id) usageError("give the snapshot: --snapshot ID (terrarium snapshot --list shows them)");
  const snap = new SnapshotStore(dataDir).find(id);
  if (!snap) fail(`no snapshot ${id} in ${dataDir}`);
  refuseWhileServed(dataDir, "restore");
  const r = await withEngine(projectDir, dataDir, (e) =>
    controlApi(e).restoreSnapshot({ objectId: snap.objectId, snapshotId: snap.id }),
  );
  process.stdout.write(
    `Restored ${snap.className} ${snap.objectName ?? snap.objectId.slice(0, 12)} to ${snap.id} (${when(snap.time)}).\n` +
      `What it held before is snapshot ${r.before.id}: terrarium restore --snapshot ${r.before.id} undoes this.\n`,
  );
}

/** `terrarium reset [projectDir] --object X | --class NAME | --all` */
export async function resetCommand(argv: string[]): Promise<void> {
  const { values, positionals } = parseCommand("reset", argv);
  const projectDir = projectFolder(positionals);
  const dataDir = dataFolder(projectDir, values.data);
  const object = values.object;
  const className = values.class;
  const all = values.all === true;
  if (
    Number(object !== undefined) + Number(className !== undefined && object === undefined) + Number(all) !==
    1
  )
    usageError("takes one of: --object <id or name> [--class NAME], --class NAME, --all");
  const spec = object
    ? { objectId: pickObject(dataDir, object, className).id }
    : className
      ? { className }
      : { all: true as const };
  refuseWhileServed(dataDir, "reset");
  const r = await withEngine(projectDir, dataDir, (e) => controlApi(e).resetState(spec));
  process.stdout.write(
    `Reset ${r.objects} object${r.objects === 1 ? "" : "s"}: storage and alarms deleted, a snapshot of each kept ` +
      `(terrarium snapshot --list; restore one with terrarium restore --snapshot ID).\n`,
  );
}
