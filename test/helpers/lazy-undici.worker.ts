// A worker thread for test/unit/host/fetch-classes.test.ts: does what an
// object's worker does with requests and responses, and reports whether
// undici was loaded at each step (Node lists the modules it loaded).
import { parentPort, workerData } from "node:worker_threads";
import { fetchClasses, guardFetchGlobals } from "../../runtime/host/fetch-classes.ts";
import { deserializeRequest, serializeResponse } from "../../runtime/host/http-serialize.ts";
import { isResponse, WorkersResponse } from "../../runtime/host/response.ts";

/** Node's list of the built-in modules this thread loaded (not in its types). */
const loadedModules = (): string[] => (process as unknown as { moduleLoadList: string[] }).moduleLoadList;
const undici = (): boolean => loadedModules().some((m) => m.includes("undici"));
const text = (b: ArrayBuffer | null): string => new TextDecoder().decode(b ?? new ArrayBuffer(0));
const afterImport = undici();
guardFetchGlobals();
const g = globalThis as Record<string, unknown>;
g.Response = WorkersResponse;

/** How undici gets loaded first in this run. */
const first = (workerData as { first: string }).first;

async function run(): Promise<Record<string, unknown>> {
  const steps: Record<string, unknown> = { afterImport };
  const req = deserializeRequest({
    url: "http://x.test/a?b=1",
    method: "GET",
    headers: [["accept", "text/plain"]],
    body: null,
  });
  const res = new WorkersResponse(`${req.method} ${req.url}`, { status: 201, headers: { "x-a": "1" } });
  const early = new WorkersResponse("early", { headers: { "x-early": "yes" } });
  const wire = await serializeResponse(res);
  steps.unread = {
    undici: undici(),
    status: wire.status,
    headers: wire.headers,
    body: text(wire.body),
    isResponse: isResponse(res),
    awaited: (await Promise.resolve(early)) === early,
  };
  switch (first) {
    case "global":
      steps.firstLook = req instanceof (g.Request as typeof Request);
      break;
    case "member":
      steps.firstLook = req.headers.get("accept");
      break;
    case "constructor":
      steps.firstLook = await new WorkersResponse(new Blob(["from a blob"])).text();
      break;
    case "static":
      steps.firstLook = WorkersResponse.error().type;
      break;
    case "fetch":
      steps.firstLook = await (g.fetch as typeof fetch)("data:text/plain,hi").then((r) => r.text());
      break;
  }
  steps.loaded = undici();
  steps.requestIsRequest = req instanceof (g.Request as typeof Request);
  steps.accept = req.headers.get("accept");
  steps.tag = Object.prototype.toString.call(req);
  steps.earlyHeaders = [...early.headers];
  steps.earlyText = await early.text();
  steps.earlyIsNodeResponse = early instanceof fetchClasses().Response;
  steps.globalResponseKept = g.Response === WorkersResponse;
  steps.headersIsNode = g.Headers === fetchClasses().Headers;
  const later = new WorkersResponse("later", { status: 202 });
  steps.later = [later.status, [...later.headers], await later.text()];
  return steps;
}

run().then(
  (steps) => parentPort!.postMessage({ steps }),
  (e: unknown) => parentPort!.postMessage({ error: String((e as Error)?.stack ?? e) }),
);
