import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { z } from "zod";
import type { ControlApi, RunRecord } from "./contract.ts";
import {
  codeSchemas,
  exportSchemas,
  loadSchemas,
  templateSchemas,
  timeSchemas,
  traceSchemas,
} from "./contract.ts";

/**
 * The control API as MCP tools, for coding agents (`terrarium mcp`). Every
 * tool is one or two control API calls; the API parses the arguments again,
 * so an agent gets the same checks and errors as the UI.
 *
 * Reads and sandbox actions (a request, a load run, hibernating an object)
 * are always there. The tools that change the project's files or write
 * outside the data folder (a class from a template, a class's code, an
 * export) are registered only with `allowWrites`; without it they are not
 * listed and a call to one is refused as an unknown tool.
 */
export interface McpOptions {
  allowWrites: boolean;
  /** The server's version, as it tells clients. */
  version: string;
}

/** The tools that change the project or the disk outside the data folder. */
export const WRITE_TOOLS = ["add_class", "update_class_code", "rollback_class", "export_project"] as const;

const objectId = z.string().regex(/^[0-9a-f]{64}$/, "an object id is 64 lower-case hex digits");
const limit = (max: number, what: string) => z.number().int().min(1).max(max).optional().describe(what);

function json(value: unknown): CallToolResult {
  return { content: [{ type: "text", text: JSON.stringify(value, null, 2) }] };
}

function refusal(e: unknown): CallToolResult {
  const message = e instanceof Error ? e.message : String(e);
  return { isError: true, content: [{ type: "text", text: message }] };
}

/** Runs a tool's body; an error becomes a tool result with isError and the message, as MCP asks. */
async function answer(body: () => Promise<unknown>): Promise<CallToolResult> {
  try {
    return json(await body());
  } catch (e) {
    return refusal(e);
  }
}

/** A saved run without its per-second series (which an agent rarely needs and which is long). */
function runSummary(run: RunRecord, withSeries: boolean): unknown {
  const { series, ...rest } = run;
  return withSeries ? run : { ...rest, seconds: series.length };
}

/** How often run_load looks whether its run ended. */
const LOAD_POLL_MS = 250;

export function createMcpServer(api: ControlApi, opts: McpOptions): McpServer {
  const server = new McpServer(
    { name: "terrarium", version: opts.version },
    {
      instructions:
        "Terrarium runs a Cloudflare Durable Objects project locally: each object in its own worker " +
        "with its own SQLite file. Start with project_info and list_classes, then list_objects; " +
        "send_request drives the project as a client would. Object ids are 64 hex digits." +
        (opts.allowWrites
          ? " Write tools are on: add_class, update_class_code and export_project change files."
          : " Write tools are off (start with --allow-writes to add them)."),
    },
  );
  const read = { readOnlyHint: true, openWorldHint: false } as const;
  const action = { readOnlyHint: false, destructiveHint: false, openWorldHint: false } as const;

  server.registerTool(
    "project_info",
    {
      description: "The project: its name, folder, data folder, router address and compatibility date.",
      annotations: read,
    },
    () => answer(() => api.project()),
  );

  server.registerTool(
    "list_classes",
    {
      description:
        "The project's Durable Object classes: bindings, kind, how many objects and how many are live, by lifecycle state.",
      annotations: read,
    },
    () => answer(() => api.listClasses()),
  );

  server.registerTool(
    "list_objects",
    {
      description:
        "Objects the registry knows, most recently active first: id, class, name, lifecycle state, requests in flight, storage bytes.",
      inputSchema: {
        className: z.string().max(200).optional().describe("only this class"),
        state: z.string().max(40).optional().describe("only this lifecycle state, e.g. Hibernating"),
        search: z.string().max(200).optional().describe("part of an id or a name"),
        limit: limit(1000, "at most this many (default 100)"),
      },
      annotations: read,
    },
    ({ className, state, search, limit: n }) =>
      answer(() =>
        api.listObjects({
          ...(className !== undefined ? { className } : {}),
          ...(state !== undefined ? { state } : {}),
          ...(search !== undefined ? { search } : {}),
          limit: n ?? 100,
        }),
      ),
  );

  server.registerTool(
    "get_object",
    {
      description: "One object: its lifecycle state, requests, storage, last error, alarm and WebSockets.",
      inputSchema: { objectId },
      annotations: read,
    },
    ({ objectId: id }) =>
      answer(async () => {
        const object = await api.getObject(id);
        if (!object) throw new Error(`no object with id ${id}`);
        const [alarms, sockets] = await Promise.all([api.alarms(id), api.objectSockets(id)]);
        return { ...object, alarm: alarms[0] ?? null, sockets };
      }),
  );

  server.registerTool(
    "why_awake",
    {
      description:
        "Why an object is not hibernating now (requests in flight, a standard WebSocket, waitUntil, " +
        "blockConcurrencyWhile, an open transaction, an alarm due) and when it hibernates next; also its in-memory fields.",
      inputSchema: { objectId },
      annotations: read,
    },
    ({ objectId: id }) => answer(() => api.whyAwake(id)),
  );

  server.registerTool(
    "transitions",
    {
      description:
        "The latest lifecycle transitions (Created, Initializing, Active, Processing, Idle, Hibernating, ...), oldest first, with time and cause.",
      inputSchema: {
        objectId: objectId.optional().describe("only this object's"),
        limit: limit(10_000, "at most this many (default 100)"),
      },
      annotations: read,
    },
    ({ objectId: id, limit: n }) =>
      answer(() => api.transitions({ ...(id !== undefined ? { objectId: id } : {}), limit: n ?? 100 })),
  );

  server.registerTool(
    "logs",
    {
      description: "The latest console output of the entry Worker and the objects, oldest first.",
      inputSchema: {
        objectId: objectId.optional().describe("only this object's"),
        limit: limit(10_000, "at most this many (default 100)"),
      },
      annotations: read,
    },
    ({ objectId: id, limit: n }) =>
      answer(() => api.logs({ ...(id !== undefined ? { objectId: id } : {}), limit: n ?? 100 })),
  );

  server.registerTool(
    "list_traces",
    {
      description:
        "Traces across objects, newest first: every request through the router (and each alarm or Event Bus " +
        "delivery no request caused), with its status, duration, span count and the classes it reached. " +
        "Filters: a part of the path; a status (404), a class (4xx, 5xx), error or ok; an object's class, name or id.",
      inputSchema: {
        path: traceSchemas.query.shape.path.describe("requests whose path contains this"),
        status: traceSchemas.query.shape.status.describe("404, 4xx, 5xx, error or ok"),
        object: traceSchemas.query.shape.object.describe(
          "traces that reached an object: a class, name or id",
        ),
        limit: limit(1000, "at most this many (default 20)"),
      },
      annotations: read,
    },
    ({ path, status, object, limit: n }) =>
      answer(async () => {
        const info = await api.traces({
          ...(path !== undefined ? { path } : {}),
          ...(status !== undefined ? { status } : {}),
          ...(object !== undefined ? { object } : {}),
          limit: n ?? 20,
        });
        return info;
      }),
  );

  server.registerTool(
    "get_trace",
    {
      description:
        "One trace (list_traces gives ids): every span (request, entry Worker, object fetch/RPC, publish, event " +
        "delivery, queue batch, outbound mock fetch) with its parent, start, duration, object, the lifecycle state " +
        "the object was in and its outcome, and the log lines written under each span.",
      inputSchema: { traceId: traceSchemas.traceId },
      annotations: read,
    },
    ({ traceId }) =>
      answer(async () => {
        const t = await api.trace(traceId);
        if (!t) throw new Error(`no trace ${traceId} (the oldest are dropped past the cap)`);
        return t;
      }),
  );

  server.registerTool(
    "class_versions",
    {
      description:
        "Every saved version of a class's code (content-addressed), oldest first, the one it runs now and how " +
        "many live objects run each; rollback_class (with --allow-writes) goes back to one.",
      inputSchema: { className: timeSchemas.className },
      annotations: read,
    },
    ({ className }) => answer(() => api.classVersions(className)),
  );

  server.registerTool(
    "query_storage",
    {
      description:
        "Runs one read-only SQL statement on an object's SQLite database (a statement that writes is refused). " +
        "SELECT name FROM sqlite_master lists its tables; key-value storage is in list_kv.",
      inputSchema: {
        objectId,
        sql: z.string().min(1).max(100_000),
        params: z
          .array(z.union([z.string(), z.number(), z.null()]))
          .max(1000)
          .optional()
          .describe("values for ? placeholders"),
        limit: limit(10_000, "at most this many rows (default 200)"),
      },
      annotations: read,
    },
    ({ objectId: id, sql, params, limit: n }) =>
      answer(() =>
        api.query({ objectId: id, sql, ...(params !== undefined ? { params } : {}), limit: n ?? 200 }),
      ),
  );

  server.registerTool(
    "list_kv",
    {
      description: "An object's key-value storage (ctx.storage.get/put), in key order.",
      inputSchema: {
        objectId,
        prefix: z.string().max(2048).optional(),
        limit: limit(1000, "at most this many keys (default 100)"),
      },
      annotations: read,
    },
    ({ objectId: id, prefix, limit: n }) =>
      answer(() =>
        api.listKv({ objectId: id, ...(prefix !== undefined ? { prefix } : {}), limit: n ?? 100 }),
      ),
  );

  server.registerTool(
    "design",
    {
      description:
        "The project's design: classes with their source files, routes, Event Bus subscriptions, timeouts and other bindings.",
      annotations: read,
    },
    () => answer(() => api.design()),
  );

  server.registerTool(
    "list_files",
    {
      description: "The project's own files (sources and configuration) with their sizes.",
      annotations: read,
    },
    () => answer(() => api.listFiles()),
  );

  server.registerTool(
    "read_file",
    {
      description: "One project file's text, by its path relative to the project folder.",
      inputSchema: { path: z.string().min(1).max(1024) },
      annotations: read,
    },
    ({ path }) => answer(() => api.readFile(path)),
  );

  server.registerTool(
    "list_templates",
    {
      description: "The object templates add_class can create a class from, one per kind of object.",
      annotations: read,
    },
    () => answer(() => api.templates()),
  );

  server.registerTool(
    "send_request",
    {
      description:
        "Sends an HTTP request to the project through its router, as a client would (routes, then the entry Worker). " +
        "Answers with status, headers and body.",
      inputSchema: {
        method: z
          .string()
          .regex(/^[A-Z]+$/)
          .default("GET")
          .describe("GET, POST, ..."),
        path: z.string().startsWith("/").max(8192).describe("path and query, e.g. /counter/a?x=1"),
        headers: z.record(z.string(), z.string()).optional(),
        body: z
          .string()
          .max(10 * 1024 * 1024)
          .optional(),
      },
      annotations: action,
    },
    ({ method, path, headers, body }) =>
      answer(() =>
        api.sendRequest({
          method,
          path,
          ...(headers !== undefined ? { headers: Object.entries(headers) } : {}),
          ...(body !== undefined ? { body } : {}),
        }),
      ),
  );

  server.registerTool(
    "hibernate_object",
    {
      description:
        "Hibernates a live object now: its worker ends, its storage stays; the next request wakes it (its constructor runs again).",
      inputSchema: { objectId },
      annotations: action,
    },
    ({ objectId: id }) => answer(async () => ({ hibernated: await api.hibernate(id) })),
  );

  server.registerTool(
    "hibernate_and_wake",
    {
      description:
        "Hibernates an object now and wakes it at once (its constructor runs again on its storage), answering which " +
        "in-memory fields were lost and which hibernatable WebSockets kept their attachments. Refused while something holds it awake.",
      inputSchema: { objectId },
      annotations: action,
    },
    ({ objectId: id }) => answer(() => api.hibernateAndWake(id)),
  );

  server.registerTool(
    "load_profiles",
    { description: "The load profiles in terrarium.json, by name.", annotations: read },
    () => answer(() => api.loadProfiles()),
  );

  server.registerTool(
    "run_load",
    {
      description:
        "Runs a load profile against the project's router (one run at a time) and answers with its summary: " +
        "requests, errors, throughput, latency percentiles, thresholds. With wait: false it answers at once with the run id; " +
        "read the summary later with get_load_run. A run longer than your client's call timeout needs wait: false.",
      inputSchema: {
        profile: z.string().min(1).max(200).optional().describe("a profile of terrarium.json by name"),
        config: z
          .record(z.string(), z.unknown())
          .optional()
          .describe(
            'a whole profile instead, e.g. {"rate": 20, "duration": "5s", "path": "/counter/{key}", "keys": "uniform:10"}',
          ),
        wait: z.boolean().default(true),
      },
      annotations: action,
    },
    ({ profile, config, wait }) =>
      answer(async () => {
        const spec = loadSchemas.startLoad.parse({
          ...(profile !== undefined ? { profile } : {}),
          ...(config !== undefined ? { config } : {}),
        });
        const { id } = await api.startLoad(spec);
        if (!wait) return { id, running: true };
        for (;;) {
          const status = await api.loadStatus(1_000_000);
          if (status.active?.id !== id) {
            const run = await api.getRun(id);
            if (!run) throw new Error(`the run ${id} ended without being saved: ${status.lastError ?? "?"}`);
            return runSummary(run, false);
          }
          await new Promise((r) => setTimeout(r, LOAD_POLL_MS));
        }
      }),
  );

  server.registerTool(
    "stop_load",
    { description: "Ends the load run going now; what it measured is saved.", annotations: action },
    () => answer(async () => ({ stopped: await api.stopLoad() })),
  );

  server.registerTool(
    "list_load_runs",
    { description: "Saved load runs, newest first, one line each.", annotations: read },
    () => answer(() => api.listRuns()),
  );

  server.registerTool(
    "get_load_run",
    {
      description:
        "One load run's profile and summary (whether it is still going when it is the current run); series: true adds its per-second numbers.",
      inputSchema: { id: loadSchemas.runId, series: z.boolean().default(false) },
      annotations: read,
    },
    ({ id, series }) =>
      answer(async () => {
        const run = await api.getRun(id);
        if (run) return runSummary(run, series);
        const status = await api.loadStatus(1_000_000);
        if (status.active?.id === id)
          return { id, running: true, elapsedMs: Date.now() - status.active.startedAt };
        throw new Error(`no load run ${id}`);
      }),
  );

  server.registerTool(
    "cost_estimate",
    {
      description:
        "What the traffic would cost on Cloudflare (Workers Paid prices, free allowances) each month at the same rate: " +
        "of one load run (runId), or of everything since the project started; per class, with what would change it.",
      inputSchema: { runId: loadSchemas.runId.optional() },
      annotations: read,
    },
    ({ runId }) => answer(() => api.costEstimate(runId === undefined ? {} : { runId })),
  );

  server.registerTool(
    "export_plan",
    {
      description:
        "What exporting the project to a Cloudflare project would write: its files, the migration added, warnings.",
      annotations: read,
    },
    () =>
      answer(async () => {
        const plan = await api.exportPlan();
        return { ...plan, files: plan.files.map(({ text: _t, ...f }) => f) };
      }),
  );

  if (!opts.allowWrites) return server;

  server.registerTool(
    "add_class",
    {
      description:
        "Adds a Durable Object class from a template (list_templates): its source file, its export, a binding and " +
        "migration in the wrangler config, routes and subscriptions in terrarium.json. Changes project files.",
      inputSchema: templateSchemas.addClass.shape,
      annotations: { readOnlyHint: false, destructiveHint: false, openWorldHint: false },
    },
    (spec) => answer(() => api.addClass(spec)),
  );

  server.registerTool(
    "update_class_code",
    {
      description:
        "Replaces the whole source of the file that declares a class (design lists it) and moves the class's live " +
        "objects to the new code, keeping their storage. Code that fails to build or whose constructor throws is " +
        "refused with the error; the file is then put back and the old code keeps serving.",
      inputSchema: codeSchemas.updateClassCode.shape,
      annotations: { readOnlyHint: false, destructiveHint: true, openWorldHint: false },
    },
    (spec) =>
      answer(async () => {
        const r = await api.updateClassCode(spec);
        if (!r.ok)
          throw new Error(`refused, ${r.path} is unchanged and the old code keeps serving: ${r.error}`);
        return r;
      }),
  );

  server.registerTool(
    "rollback_class",
    {
      description:
        "Rolls a class back to an earlier version (class_versions lists the hashes) through the live-update path: " +
        "its source file gets that version's text and its live objects move to it, keeping their storage. Refused, " +
        "the file left as it is, when that version does not build or its constructor throws on the current storage.",
      inputSchema: timeSchemas.version.shape,
      annotations: { readOnlyHint: false, destructiveHint: true, openWorldHint: false },
    },
    (ref) => answer(() => api.rollbackClass(ref)),
  );

  server.registerTool(
    "export_project",
    {
      description:
        "Exports the project as a Cloudflare project that deploys with wrangler into outDir (an absolute path; " +
        "refused when it is not empty unless force).",
      inputSchema: exportSchemas.write.shape,
      annotations: { readOnlyHint: false, destructiveHint: true, openWorldHint: false },
    },
    (spec) => answer(() => api.writeExport(spec)),
  );

  return server;
}
