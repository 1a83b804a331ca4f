import { readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { buildHostWorkers, bundleProject, type Bundle } from "../build/bundler.ts";
import { ProjectError } from "../config/errors.ts";
import { findClassSources } from "../config/project-files.ts";
import { loadProject, type Project, type ProjectOptions } from "../config/project.ts";
import type { EventBus } from "../event-bus/event-bus.ts";
import type { ClassHistory, ClassSource } from "../lifecycle/class-history.ts";
import type {
  LifecycleManager,
  LifecycleOptions,
  LifecyclePolicy,
  UpdateProbe,
} from "../lifecycle/lifecycle.ts";
import type { ProjectWorkers } from "../lifecycle/workers.ts";
import type { QueueBroker } from "../queues/broker.ts";
import type { ServiceRegistry } from "../registry/registry.ts";
import type { RequestRouter } from "../router/router.ts";
import type { EngineEvents, UpdateResult } from "../shared/events.ts";
import type { StateManager } from "../state/state-manager.ts";
import type { Workflows } from "../workflows/workflows.ts";
import type { AuxiliaryRun } from "./auxiliary.ts";
import { assetRouting, classInfos, codeVersion, projectPolicies, workerCode } from "./code.ts";

/** A rollback that did not happen: the version is unknown, moved, or its code was refused. */
export class RollbackRefused extends Error {
  override name = "RollbackRefused";
}

export interface RollbackResult {
  className: string;
  version: string;
  file: string;
  /** Live objects moved to the version. */
  updated: number;
}

/** Writes a file through a temporary one beside it, so a crash leaves one whole version or the other. */
function writeFileAtomic(path: string, text: string): void {
  const tmp = `${path}.terrarium-${process.pid}.tmp`;
  writeFileSync(tmp, text);
  renameSync(tmp, path);
}

function errorLocation(e: unknown): { file: string; line: number; column: number } | null {
  if (!(e instanceof ProjectError) || e.file === undefined || e.line === undefined) return null;
  return { file: e.file, line: e.line, column: e.column ?? 1 };
}

/** The parts of the engine a reload reads and changes. */
export interface ReloadParts {
  readonly dataDir: string;
  /** How the project was opened (--env, -c, --var): a reload reads it the same way. */
  readonly loadOptions: ProjectOptions;
  /** The timeouts before terrarium.json's (options or defaults), so a reload can apply its new values. */
  readonly basePolicy: LifecyclePolicy;
  readonly baseClassPolicies: LifecycleOptions["classPolicies"];
  readonly events: EngineEvents;
  readonly registry: ServiceRegistry;
  readonly state: StateManager;
  readonly lifecycle: LifecycleManager;
  readonly router: RequestRouter;
  readonly eventBus: EventBus;
  readonly queues: QueueBroker;
  readonly workflows: Workflows;
  readonly history: ClassHistory;
  /** The project's Workers, connected for their service bindings (reconnected on a reload). */
  readonly workers: ProjectWorkers;
  /** The project's other Workers (-c), each beside the first (the engine adds them as they start). */
  readonly auxiliary: readonly AuxiliaryRun[];
}

/**
 * The project as it runs, and the changes to it: a reload (config and code
 * read again, live objects moved to the new code), a source file replaced
 * from the editor, a class rolled back to an earlier version. One at a
 * time (`exclusive`): a file watcher's reload never interleaves with a
 * project change.
 */
export class ProjectChanges {
  readonly #parts: ReloadParts;
  #project: Project;
  #assetNotes: readonly string[];
  /** The reload or project change under way, settled (never rejects). */
  #reloading: Promise<void> | null = null;

  constructor(project: Project, assetNotes: readonly string[], parts: ReloadParts) {
    this.#project = project;
    this.#assetNotes = assetNotes;
    this.#parts = parts;
  }

  get project(): Project {
    return this.#project;
  }

  /** What the project's asset settings mean here (printed at start). */
  get assetNotes(): readonly string[] {
    return this.#assetNotes;
  }

  /** The idle and hibernation timeouts where terrarium.json sets none. */
  get basePolicy(): LifecyclePolicy {
    return this.#parts.basePolicy;
  }

  /** The change under way, settled; null when none is. */
  get underWay(): Promise<void> | null {
    return this.#reloading;
  }

  /**
   * Re-reads the project and moves it to the new code (the Updating state).
   * Bad config or code is refused with the error (file:line where there is
   * one) and the running version keeps serving.
   */
  async reload(
    opts: { cause?: string; probe?: UpdateProbe[]; versionCause?: "update" | "rollback" } = {},
  ): Promise<UpdateResult> {
    const started = Date.now();
    const done = (r: Omit<UpdateResult, "time" | "durationMs">): UpdateResult => {
      const result = { ...r, time: started, durationMs: Date.now() - started };
      this.#parts.events.emit("update", result);
      return result;
    };
    let project: Project;
    let bundle: Bundle;
    let auxBundles: Bundle[];
    try {
      project = loadProject(this.#project.dir, this.#parts.loadOptions);
      if (project.wrangler.name !== this.#project.wrangler.name) {
        return done({
          ok: false,
          updated: 0,
          error:
            "the worker name changed, and every object id derives from it: restart Terrarium to apply this change",
        });
      }
      bundle = await bundleProject(project.wrangler, join(this.#parts.dataDir, "build"));
      auxBundles = await Promise.all(
        project.workers.map((aw) => bundleProject(aw.wrangler, join(this.#parts.dataDir, "build"))),
      );
      if (
        project.workers.map((aw) => aw.wrangler.name).join() !==
        this.#parts.auxiliary.map((a) => a.name).join()
      ) {
        return done({
          ok: false,
          updated: 0,
          error: "the project's Workers (-c) changed their names: restart Terrarium to apply this change",
        });
      }
    } catch (e) {
      return done({
        ok: false,
        updated: 0,
        error: e instanceof Error ? e.message : String(e),
        location: errorLocation(e),
      });
    }
    const next = codeVersion(project, bundle, await buildHostWorkers(), this.#parts.dataDir);
    const same = JSON.stringify(next.spec) === JSON.stringify(this.#parts.lifecycle.code.spec);
    let updated = 0;
    const sources = this.classSources(project);
    if (!same) {
      this.#parts.history.pending(sources);
      const r = await this.#parts.lifecycle.updateCode(
        next,
        opts.cause,
        opts.probe ? { probe: opts.probe } : {},
      );
      if (!r.ok) {
        this.#parts.history.abandon();
        return done({ ok: false, updated: 0, error: r.error });
      }
      updated = r.updated;
    }
    const hosts = await buildHostWorkers();
    for (const [i, a] of this.#parts.auxiliary.entries()) {
      const aw = project.workers[i]!;
      const code = workerCode(
        aw.wrangler,
        aw.devVars.values,
        null,
        auxBundles[i]!,
        hosts,
        this.#parts.dataDir,
        project.terrarium.ai,
      );
      if (JSON.stringify(code.spec) === JSON.stringify(a.lifecycle.code.spec)) continue;
      const r = await a.lifecycle.updateCode(code);
      if (!r.ok) return done({ ok: false, updated, error: `${a.name}: ${r.error}` });
      a.workflows.setWorkflows(code.spec.workflows);
    }
    this.#parts.workers.connect([
      { lifecycle: this.#parts.lifecycle, wrangler: project.wrangler },
      ...this.#parts.auxiliary.map((a, i) => ({
        lifecycle: a.lifecycle,
        wrangler: project.workers[i]!.wrangler,
      })),
    ]);
    this.#parts.history.commit(sources, opts.versionCause ?? "update");
    this.#project = project;
    this.#parts.router.setRoutes(project.terrarium.routes ?? []);
    const assets = assetRouting(project);
    this.#parts.router.setAssets(assets);
    this.#assetNotes = assets?.notes ?? [];
    this.#parts.lifecycle.setSharding(project.terrarium.sharding ?? {});
    const policies = projectPolicies(project, this.#parts.basePolicy, this.#parts.baseClassPolicies);
    this.#parts.lifecycle.setPolicies(policies.policy, policies.classPolicies);
    this.#parts.eventBus.setSubscriptions(project.terrarium.subscriptions ?? []);
    this.#parts.queues.setConfig(project.allQueues);
    this.#parts.workflows.setWorkflows(next.spec.workflows);
    this.#parts.registry.setClasses(classInfos(project));
    // Code that still throws while loading is not a successful update, even if nothing else changed.
    const failure = this.#parts.lifecycle.loadFailure;
    return done({ ok: failure === null, updated, error: failure });
  }

  /**
   * Runs `fn` after any reload or project change under way, and before the
   * next one starts: project changes (class renames, settings) go through
   * here so that no two of them, or a file watcher's reload, interleave.
   */
  exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = (this.#reloading ?? Promise.resolve()).then(fn);
    const settled = run.then(
      () => undefined,
      () => undefined,
    );
    this.#reloading = settled;
    void settled.then(() => {
      if (this.#reloading === settled) this.#reloading = null;
    });
    return run;
  }

  /**
   * Writes a project source file and moves live objects to the new code,
   * answering with the update. When the update is refused (a build error, a
   * constructor that throws) the file is put back as it was and the engine
   * reloads it, so the folder and what serves agree.
   */
  replaceSource(path: string, text: string): Promise<UpdateResult & { written: boolean }> {
    return this.exclusive(async () => {
      const abs = join(this.#project.dir, path);
      const before = readFileSync(abs, "utf8");
      writeFileSync(abs, text);
      const result = await this.reload();
      if (result.ok) return { ...result, written: true };
      writeFileSync(abs, before);
      await this.reload();
      return { ...result, written: false };
    });
  }

  /** Each class's source as it is on disk: the file that declares `class <Name>`. */
  classSources(project: Project = this.#project): ClassSource[] {
    const names = [...new Set(project.wrangler.durableObjects.map((b) => b.className))];
    const out: ClassSource[] = [];
    for (const [className, file] of findClassSources(project.dir, this.#parts.dataDir, names)) {
      try {
        out.push({ className, file, text: readFileSync(join(project.dir, file), "utf8") });
      } catch {
        // deleted since it was found: the next reload sees it gone
      }
    }
    return out;
  }

  /**
   * Rolls a class back to an earlier version of its code: the file that
   * declares it gets that version's text, and the engine moves to it as
   * for a saved change (live objects go Updating). The version's
   * constructor is first tried on a copy of the storage of the class's
   * most recently active object, live or not; if it throws (or the code
   * does not build), the file is put back and the rollback refused.
   */
  rollbackClass(className: string, hash: string): Promise<RollbackResult> {
    return this.exclusive(async () => {
      const version = this.#parts.history.versions.history(className).find((v) => v.hash === hash);
      if (!version) throw new RollbackRefused(`class ${className} has no version ${hash.slice(0, 8)}`);
      const source = this.classSources().find((s) => s.className === className);
      if (!source) throw new RollbackRefused(`no file of the project declares class ${className}`);
      if (source.file !== version.file) {
        throw new RollbackRefused(
          `version ${hash.slice(0, 8)} of ${className} is ${version.file}, but the class is in ${source.file} now`,
        );
      }
      const text = this.#parts.history.versions.text(hash);
      if (text === source.text) return { className, version: hash, updated: 0, file: source.file };
      const path = join(this.#project.dir, source.file);
      writeFileAtomic(path, text);
      const probe = [...this.#parts.registry.objects()]
        .filter((r) => r.className === className && this.#parts.state.storageBytes(r.className, r.id) > 0)
        .sort((a, b) => b.lastActive - a.lastActive)
        .slice(0, 1)
        .map((r) => ({ className: r.className, id: r.id, name: r.name }));
      const r = await this.reload({
        cause: `rolled back ${className} to ${hash.slice(0, 8)}`,
        probe,
        versionCause: "rollback",
      });
      if (!r.ok) {
        writeFileAtomic(path, source.text);
        throw new RollbackRefused(
          `rolling ${className} back to ${hash.slice(0, 8)} was refused, and ${source.file} is as it was: ${r.error}`,
        );
      }
      return { className, version: hash, updated: r.updated, file: source.file };
    });
  }
}
