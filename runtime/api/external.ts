import { existsSync, lstatSync, readdirSync } from "node:fs";
import { resolve, sep } from "node:path";
import type { Engine } from "../engine.ts";
import { bucketInfo, bucketList, bucketValue, databaseInfo, databaseQuery } from "../bindings/inspect.ts";
import { MockCallLog } from "../bindings/mock-calls.ts";
import { d1Stores, r2Stores, type D1Store, type R2Store } from "../bindings/stores.ts";
import {
  ExportError,
  exportProject,
  GENERATED_DIR,
  GENERATED_FILES,
  planExport,
} from "../export/exporter.ts";
import { EXPORT_CHECKS, toolchain, validatePlan, type ExportCheck } from "../export/validate.ts";
import type { ControlApi, ExportFileInfo, LiveEvent } from "./contract.ts";
import { exportSchemas, externalSchemas } from "./contract.ts";

type ExternalMethods = Pick<
  ControlApi,
  | "exportPlan"
  | "writeExport"
  | "validateExport"
  | "databases"
  | "databaseQuery"
  | "buckets"
  | "bucketList"
  | "bucketObject"
  | "mocks"
  | "mockCalls"
>;

function textOf(contents: string | Uint8Array): string | null {
  if (typeof contents === "string") return contents;
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(contents);
  } catch {
    return null;
  }
}

/**
 * The control methods for what the project reaches outside Terrarium: its
 * export to a Cloudflare project, its D1 databases, R2 buckets and mock
 * endpoints. Arguments are parsed with the contract's schemas, as in
 * control-api.ts. `onLive` feeds the control API's live stream with mock
 * calls and export-check output.
 */
export function external(engine: Engine): {
  methods: ExternalMethods;
  onLive: (push: (e: LiveEvent) => void) => () => void;
} {
  const listeners = new Set<(e: LiveEvent) => void>();
  const emit = (e: LiveEvent): void => {
    for (const fn of listeners) fn(e);
  };

  // The ring fills whether or not anyone is watching, so the page shows recent calls when opened.
  const mockLog = new MockCallLog();
  const callsPerMock = new Map<string, number>();
  engine.events.on("mock", (call) => {
    callsPerMock.set(call.mock, (callsPerMock.get(call.mock) ?? 0) + 1);
    emit({ type: "mock", data: mockLog.record(call) });
  });

  const d1 = (binding: string): D1Store => {
    const s = d1Stores(engine.project, engine.dataDir).find((d) => d.binding === binding);
    if (!s) throw new Error(`the project has no D1 database bound as ${binding}`);
    return s;
  };
  const r2 = (binding: string): R2Store => {
    const s = r2Stores(engine.project, engine.dataDir).find((b) => b.binding === binding);
    if (!s) throw new Error(`the project has no R2 bucket bound as ${binding}`);
    return s;
  };

  /** The project's other Workers (-c): the export writes each under workers/<name>/. */
  const otherWorkers = (): string[] => engine.project.workers.map((w) => w.wrangler.configPath);

  /** The check running now: one at a time, as each takes a core for seconds. */
  let checking: ExportCheck | null = null;

  const methods: ExternalMethods = {
    async exportPlan(q = {}) {
      const p = exportSchemas.plan.parse(q);
      const outDir = p.outDir === undefined ? undefined : resolve(p.outDir);
      const env = engine.project.env;
      const workers = otherWorkers();
      const plan = await planExport(
        engine.project.dir,
        outDir === undefined ? { env, workers } : { outDir, env, workers },
      );
      const files: ExportFileInfo[] = plan.files.map((f) => ({
        path: f.path,
        bytes: typeof f.contents === "string" ? Buffer.byteLength(f.contents) : f.contents.byteLength,
        text: textOf(f.contents),
        generated: GENERATED_FILES.has(f.path) || f.path.startsWith(`${GENERATED_DIR}/`),
      }));
      let target = null;
      if (outDir !== undefined) {
        const exists = existsSync(outDir);
        const entries = exists && lstatSync(outDir).isDirectory() ? readdirSync(outDir).length : 0;
        target = { outDir, exists, entries };
      }
      return {
        projectName: plan.projectName,
        files,
        warnings: plan.warnings,
        addedMigration: plan.addedMigration ? plan.addedMigration.tag : null,
        target,
        checks: toolchain() ? [...EXPORT_CHECKS] : [],
      };
    },

    async writeExport(spec) {
      const p = exportSchemas.write.parse(spec);
      const out = resolve(p.outDir);
      const data = resolve(engine.dataDir);
      if (out === data || out.startsWith(data + sep) || data.startsWith(out + sep)) {
        throw new ExportError(
          `${out} holds Terrarium's data folder for this project; export to another folder`,
        );
      }
      const plan = await exportProject(engine.project.dir, out, {
        env: engine.project.env,
        workers: otherWorkers(),
        ...(p.force ? { force: true } : {}),
      });
      let bytes = 0;
      for (const f of plan.files)
        bytes += typeof f.contents === "string" ? Buffer.byteLength(f.contents) : f.contents.byteLength;
      return { outDir: out, files: plan.files.length, bytes, warnings: plan.warnings };
    },

    async validateExport(check) {
      const c = exportSchemas.check.parse(check);
      if (checking) throw new Error(`the ${checking} check is still running; wait for it to finish`);
      checking = c;
      try {
        const plan = await planExport(engine.project.dir, {
          env: engine.project.env,
          workers: otherWorkers(),
        });
        return await validatePlan(plan, c, {
          onOutput: (chunk) => emit({ type: "exportCheck", data: { check: c, chunk } }),
        });
      } finally {
        checking = null;
      }
    },

    async databases() {
      return d1Stores(engine.project, engine.dataDir).map(databaseInfo);
    },

    async databaseQuery(q) {
      const p = externalSchemas.databaseQuery.parse(q);
      return databaseQuery(d1(p.binding), p.sql, p.params ?? [], p.limit ?? 1000);
    },

    async buckets() {
      return r2Stores(engine.project, engine.dataDir).map(bucketInfo);
    },

    async bucketList(q) {
      const p = externalSchemas.bucketList.parse(q);
      return bucketList(r2(p.binding), {
        ...(p.prefix !== undefined ? { prefix: p.prefix } : {}),
        ...(p.cursor !== undefined ? { cursor: p.cursor } : {}),
        ...(p.limit !== undefined ? { limit: p.limit } : {}),
      });
    },

    async bucketObject(q) {
      const p = externalSchemas.bucketObject.parse(q);
      return bucketValue(r2(p.binding), p.key);
    },

    async mocks() {
      return (engine.project.terrarium.mocks ?? []).map((m) => ({
        url: m.url,
        method: m.method ?? null,
        status: m.status,
        latencyMs: m.latencyMs ?? null,
        errorRate: m.errorRate ?? 0,
        errorStatus: m.errorStatus ?? 503,
        calls: callsPerMock.get(m.url) ?? 0,
      }));
    },

    async mockCalls(q = {}) {
      const p = externalSchemas.mockCalls.parse(q);
      return mockLog.list({
        ...(p.limit !== undefined ? { limit: p.limit } : {}),
        ...(p.before !== undefined ? { before: p.before } : {}),
      });
    },
  };

  return {
    methods,
    onLive: (push) => {
      listeners.add(push);
      return () => listeners.delete(push);
    },
  };
}
