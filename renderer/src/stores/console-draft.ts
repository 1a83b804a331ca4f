import type { DesignInfo } from "../../../runtime/api/contract.ts";

// The console's request being composed, as plain data: kept apart from the
// store (which reaches the engine) so its defaults are tested on their own.

export interface HeaderRow {
  readonly key: string;
  readonly value: string;
  readonly enabled: boolean;
}

export interface Draft {
  readonly method: string;
  readonly path: string;
  readonly headers: readonly HeaderRow[];
  readonly body: string;
}

/**
 * The request the composer starts with: the project's first declared route
 * that answers GET and needs no parameters, else `GET /` (which the entry
 * Worker answers however it likes; never another project's path).
 */
export function defaultDraft(routes: DesignInfo["routes"]): Draft {
  const route = routes.find(
    (r) => (r.method === null || r.method.includes("GET")) && !/[:*{]/.test(r.pattern),
  );
  return { method: "GET", path: route?.pattern ?? "/", headers: [], body: "" };
}
