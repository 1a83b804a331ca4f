/**
 * The one control API over the engine. The CLI, the Electron renderer
 * (through the preload) and the browser UI (through the web bridge) all
 * speak exactly this; arguments that cross a trust boundary are parsed with
 * the schemas below before they reach the engine.
 *
 * Each concern has its file in contract/ (its types, schemas, methods and
 * their argument lists); this file joins them into ControlApi and adds what
 * crosses a bridge.
 */
import { z } from "zod";
import { bindingCallSchemas, type BindingControlApi } from "./contract/bindings.ts";
import { consoleCallSchemas, type ConsoleControlApi } from "./contract/console.ts";
import { exportCallSchemas, type ExportControlApi } from "./contract/export.ts";
import { externalCallSchemas, type ExternalControlApi } from "./contract/external.ts";
import { inspectorCallSchemas, type InspectorControlApi, type LiveEvent } from "./contract/inspector.ts";
import { loadCallSchemas, type LoadControlApi } from "./contract/load.ts";
import { projectCallSchemas, type ProjectControlApi } from "./contract/project.ts";
import { timeCallSchemas, type TimeControlApi } from "./contract/time.ts";
import { traceCallSchemas, type TraceControlApi } from "./contract/traces.ts";
import { workflowCallSchemas, type WorkflowControlApi } from "./contract/workflows.ts";
import { workersCallSchemas, type WorkersControlApi } from "./contract/workers.ts";

export type * from "./contract/bindings.ts";
export type * from "./contract/common.ts";
export type * from "./contract/console.ts";
export type * from "./contract/export.ts";
export type * from "./contract/external.ts";
export type * from "./contract/inspector.ts";
export type * from "./contract/load.ts";
export type * from "./contract/project.ts";
export type * from "./contract/time.ts";
export type * from "./contract/traces.ts";
export type * from "./contract/workflows.ts";
export type * from "./contract/workers.ts";
export { bindingSchemas, KV_HEX_BYTES, KV_PREVIEW_BYTES } from "./contract/bindings.ts";
export { consoleSchemas } from "./contract/console.ts";
export { exportSchemas } from "./contract/export.ts";
export { emailSchemas, externalSchemas, queueSchemas } from "./contract/external.ts";
export { objectSchemas, schemas } from "./contract/inspector.ts";
export { costSchemas, loadSchemas } from "./contract/load.ts";
export { codeSchemas, designSchemas, projectFileSchemas, templateSchemas } from "./contract/project.ts";
export { timeSchemas } from "./contract/time.ts";
export { traceSchemas } from "./contract/traces.ts";
export { workflowSchemas } from "./contract/workflows.ts";

export interface ControlApi
  extends
    InspectorControlApi,
    ProjectControlApi,
    ConsoleControlApi,
    LoadControlApi,
    ExportControlApi,
    ExternalControlApi,
    TimeControlApi,
    TraceControlApi,
    WorkflowControlApi,
    BindingControlApi,
    WorkersControlApi {}

/** The methods a bridge forwards: everything but `subscribe`, which is a stream. */
export type ControlMethod = Exclude<keyof ControlApi, "subscribe">;

/**
 * The argument list of every control method, as a bridge receives it. The
 * web bridge and Electron main parse each call with these before it reaches
 * the engine (which parses again: the API is safe to call directly too).
 */
export const callSchemas = {
  ...inspectorCallSchemas,
  ...projectCallSchemas,
  ...consoleCallSchemas,
  ...loadCallSchemas,
  ...exportCallSchemas,
  ...externalCallSchemas,
  ...timeCallSchemas,
  ...traceCallSchemas,
  ...workflowCallSchemas,
  ...bindingCallSchemas,
  ...workersCallSchemas,
} as const satisfies Record<ControlMethod, z.ZodType<unknown[]>>;

export const CONTROL_METHODS = Object.keys(callSchemas) as ControlMethod[];

/**
 * What a client sends over a bridge (the web twin's WebSocket, Electron's
 * IPC): a call with an id to answer, or a request to start or stop the live
 * event stream.
 */
export const bridgeRequestSchema = z.discriminatedUnion("type", [
  z
    .object({
      type: z.literal("call"),
      id: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
      method: z.enum(CONTROL_METHODS as [ControlMethod, ...ControlMethod[]]),
      args: z.array(z.unknown()).max(4),
    })
    .strict(),
  z.object({ type: z.literal("subscribe") }).strict(),
  z.object({ type: z.literal("unsubscribe") }).strict(),
]);

export type BridgeRequest = z.infer<typeof bridgeRequestSchema>;

/** An error as it crosses a bridge. `ValidationError` means the call was refused before reaching the engine. */
export interface BridgeError {
  name: string;
  message: string;
}

/** What a bridge sends back. */
export type BridgeReply =
  | { type: "result"; id: number; ok: true; value: unknown }
  | { type: "result"; id: number; ok: false; error: BridgeError }
  | { type: "events"; batch: LiveEvent[] }
  /** Live events were dropped because the client read too slowly; it should reload what it shows. */
  | { type: "dropped"; count: number }
  /** The message could not be understood; the bridge closes the connection after this. */
  | { type: "refused"; reason: string };

/**
 * What Electron's preload puts on `window.terrarium`. In a plain browser (the
 * web twin) it is absent and the renderer talks to the web bridge instead.
 */
export interface TerrariumBridge {
  readonly host: "electron";
  readonly versions: Readonly<{ electron: string; chrome: string; node: string }>;
  readonly api: ControlApi;
}

export interface HostGlobals {
  readonly terrarium?: TerrariumBridge;
}
