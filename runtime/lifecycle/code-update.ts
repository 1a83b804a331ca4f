import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ObjectRecord } from "../registry/registry.ts";
import type { StateManager } from "../state/state-manager.ts";
import type { LogRecord, ObjectIdentity } from "../host/protocol.ts";
import type { WorkerHost } from "../host/worker-host.ts";
import { errorText } from "../shared/errors.ts";
import type { LifecycleState } from "../shared/lifecycle-model.ts";
import type { UpdateResult } from "../shared/events.ts";
import {
  exitText,
  ModuleLoadError,
  type CodeVersion,
  type LifecycleOptions,
  type LiveObject,
} from "./live.ts";
import type { WorkerPool } from "./pool.ts";

/** An object whose constructor an update tries on a copy of its storage before it goes ahead. */
export interface UpdateProbe {
  className: string;
  id: string;
  name: string | null;
}

/** What a live code update gives (the engine's reload adds where and when: UpdateResult). */
export type CodeUpdateResult = Pick<UpdateResult, "ok" | "updated" | "error">;

/**
 * Called once new code has loaded and passed its constructor checks, just
 * before the live objects in `objects` move to it (the engine snapshots
 * their storage here). A failure is logged; the update goes on.
 */
export type BeforeUpdate = (objects: ObjectRecord[]) => Promise<void>;

/** What a live code update needs of the Lifecycle Manager. */
export interface UpdateHub {
  readonly live: Map<string, LiveObject>;
  readonly state: Pick<StateManager, "dbPath" | "snapshot">;
  readonly pool: Pick<WorkerPool, "spawnLoaded" | "acquire" | "slot" | "assign">;
  readonly beforeUpdate: BeforeUpdate;
  readonly options: Pick<LifecycleOptions, "blockConcurrencyTimeoutMs">;
  closed(): boolean;
  /** The new code failed to load: it replaces the load failure the manager shows, if there is one. */
  stillFailing(e: ModuleLoadError): void;
  /**
   * Makes `next` the current code, with `entry` (already loaded with it) as
   * the first entry worker; resolves once the entry workers and the pool
   * hold the new code.
   */
  adopt(next: CodeVersion, entry: WorkerHost): Promise<void>;
  endSpan(live: LiveObject): void;
  transition(rec: ObjectRecord, to: LifecycleState, cause: string): void;
  walk(rec: ObjectRecord, to: LifecycleState, cause: string): void;
  identity(rec: ObjectRecord): ObjectIdentity;
  lose(live: LiveObject, host: WorkerHost, cause: string): Promise<void>;
  log(level: LogRecord["level"], message: string): void;
}

/**
 * Moves the project to new code. The new module is loaded and each live
 * class's constructor is tried on a copy of one of its objects' storage
 * first (and on those of `probes`); if either throws, the update is refused
 * and the old code keeps serving. Then every live object goes Active ->
 * Updating -> Active: its in-flight events finish, new ones wait, its
 * worker restarts on the new code, and its storage (and its WebSockets)
 * stay.
 */
export async function updateCode(
  hub: UpdateHub,
  next: CodeVersion,
  cause: string,
  probes: UpdateProbe[],
): Promise<CodeUpdateResult> {
  if (hub.closed()) return { ok: false, updated: 0, error: "Terrarium is shutting down" };
  let entry: WorkerHost;
  try {
    entry = await hub.pool.spawnLoaded(next.entryFile, "entry", next);
  } catch (e) {
    // Code that never loaded has nothing to keep serving: the newest error is the one to show.
    if (e instanceof ModuleLoadError) hub.stillFailing(e);
    const why = e instanceof ModuleLoadError ? e.reason : errorText(e);
    return { ok: false, updated: 0, error: `the new code failed to load: ${why}` };
  }
  const liveObjects = [...hub.live.values()].filter((l) => l.host);
  const refused = await tryConstructors(hub, next, liveObjects, probes);
  if (refused) {
    void entry.stop();
    return { ok: false, updated: 0, error: refused };
  }

  try {
    await hub.beforeUpdate(liveObjects.map((l) => l.record));
  } catch (e) {
    hub.log("warn", `before the update: ${errorText(e)}`);
  }
  await hub.adopt(next, entry);

  let updated = 0;
  await Promise.all(
    liveObjects.map(async (live) => {
      if (await updateObject(hub, live, cause)) updated++;
    }),
  );
  return { ok: true, updated, error: null };
}

/**
 * Tries each class's constructor on the new code, on a copy of the storage
 * of one of its objects (a live one first, else a probe): the reason the
 * update is refused, or null.
 */
async function tryConstructors(
  hub: UpdateHub,
  next: CodeVersion,
  liveObjects: LiveObject[],
  probes: UpdateProbe[],
): Promise<string | null> {
  const sampleByClass = new Map<string, UpdateProbe>();
  for (const l of liveObjects)
    if (!sampleByClass.has(l.record.className)) sampleByClass.set(l.record.className, l.record);
  for (const p of probes) if (!sampleByClass.has(p.className)) sampleByClass.set(p.className, p);
  const scratch = mkdtempSync(join(tmpdir(), "terrarium-update-"));
  try {
    for (const [className, sample] of sampleByClass) {
      if (!next.spec.durableObjects.some((b) => b.className === className)) continue;
      const dbPath = join(scratch, `${className}.sqlite`);
      const src = hub.state.dbPath(className, sample.id);
      // A consistent snapshot of the live database (copying its files could catch a checkpoint half-way).
      if (existsSync(src)) hub.state.snapshot(className, sample.id, dbPath);
      const trial = await hub.pool.spawnLoaded(next.hostFile, "object", next);
      try {
        await trial.call((api) =>
          api.activate({
            className,
            id: sample.id,
            name: sample.name,
            dbPath,
            alarm: null,
            sockets: [],
            blockConcurrencyTimeoutMs: hub.options.blockConcurrencyTimeoutMs,
          }),
        );
        await trial.call((api) => api.deactivate());
      } catch (e) {
        return `${className}'s constructor throws on the new code: ${errorText(e)}`;
      } finally {
        void trial.stop();
      }
    }
    return null;
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

/**
 * Moves one live object to the current code (Active -> Updating -> Active):
 * new events wait on `live.updating`, the ones in flight (and on direct
 * lines into it) finish, then its worker is replaced by one on the new code.
 * False when it did not move (it went away, or its constructor throws on
 * the new code: it hibernates with that error).
 */
async function updateObject(hub: UpdateHub, live: LiveObject, cause: string): Promise<boolean> {
  let release!: () => void;
  live.updating = new Promise<void>((r) => (release = r));
  try {
    while ((live.inFlight > 0 || live.starting) && !hub.closed()) await new Promise((r) => setTimeout(r, 5));
    const oldHost = live.host;
    if (!oldHost || hub.closed() || hub.live.get(live.record.id) !== live) return false;
    // Direct lines into the object refuse new calls from here on (their
    // callers come back through run(), which waits for this update); the
    // calls already running finish first.
    await oldHost.call((api) => api.leave()).catch(() => {});
    while ((live.directBusy.size > 0 || live.inFlight > 0) && !hub.closed())
      await new Promise((r) => setTimeout(r, 5));
    const rec = live.record;
    if (hub.closed()) return false;
    hub.endSpan(live);
    if (rec.state === "Idle") hub.transition(rec, "Active", cause);
    if (rec.state !== "Active") return false;
    hub.transition(rec, "Updating", cause);
    live.host = null;
    live.generation++;
    // Deactivating closes the old worker's exports (their stubs' calls fail), and its
    // count of them would come back too late to be taken (live.host is no longer it).
    live.heldStubs = 0;
    await oldHost.call((api) => api.deactivate()).catch(() => {});
    void oldHost.stop();
    const host = await hub.pool.acquire();
    const slot = hub.pool.slot(host)!;
    hub.pool.assign(slot, live);
    try {
      await host.call((api) => api.activate(hub.identity(rec)));
    } catch (e) {
      hub.pool.assign(slot, null);
      void host.stop();
      rec.lastError = `constructor failed on the new code: ${errorText(e)}`;
      hub.transition(rec, "Active", rec.lastError);
      hub.walk(rec, "Hibernating", rec.lastError);
      hub.live.delete(rec.id);
      return false;
    }
    live.host = host;
    void host.exited.then((exit) => {
      if (!exit.requested && live.host === host) void hub.lose(live, host, `reset: ${exitText(exit)}`);
    });
    hub.transition(rec, "Active", "running the new code");
    return true;
  } finally {
    live.updating = null;
    release();
  }
}

/** Live code updates, run one after another (each as updateCode does it). */
export class CodeUpdates {
  readonly #hub: UpdateHub;
  #chain: Promise<unknown> = Promise.resolve();

  constructor(hub: UpdateHub) {
    this.#hub = hub;
  }

  /** Moves the project to `next` once the updates before it are done. */
  run(next: CodeVersion, cause: string, probes: UpdateProbe[]): Promise<CodeUpdateResult> {
    const run = this.#chain.then(() => updateCode(this.#hub, next, cause, probes));
    this.#chain = run.catch(() => {});
    return run;
  }
}
