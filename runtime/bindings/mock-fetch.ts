/**
 * Mock third-party endpoints (terrarium.json `mocks`): while Terrarium runs
 * a project, an outbound `fetch` whose URL starts with a mock's `url` gets
 * the mock's canned answer after its latency, or, at its error rate, an
 * error answer; every other fetch goes out as usual. So simulations and
 * load runs do not hammer (or depend on) real services. The export leaves
 * fetch alone: on Cloudflare the real URLs answer.
 */

import type { MockCall } from "../shared/events.ts";

export interface MockSpec {
  /** A URL prefix: "https://api.example.com/v1/". */
  url: string;
  /** Only this method (any when absent). */
  method?: string | undefined;
  status: number;
  headers?: Record<string, string> | undefined;
  /** A string is sent as is; anything else as JSON. */
  body?: unknown;
  /** A fixed delay, or [min, max] for a uniform one. */
  latencyMs?: number | [number, number] | undefined;
  /** The share of calls answered with `errorStatus` instead (0..1). */
  errorRate?: number | undefined;
  errorStatus?: number | undefined;
}

function delay(latency: MockSpec["latencyMs"], random: () => number): number {
  if (latency === undefined) return 0;
  if (typeof latency === "number") return latency;
  const [min, max] = latency;
  return min + (max - min) * random();
}

/** The answer a mock gives, or null when no mock matches the request. */
export async function mockAnswer(
  mocks: readonly MockSpec[],
  request: Request,
  random: () => number = Math.random,
): Promise<{ response: Response; call: MockCall } | null> {
  const mock = mocks.find(
    (m) => request.url.startsWith(m.url) && (!m.method || m.method.toUpperCase() === request.method),
  );
  if (!mock) return null;
  const time = Date.now();
  const latencyMs = delay(mock.latencyMs, random);
  if (latencyMs > 0) await new Promise((r) => setTimeout(r, latencyMs));
  const failed = mock.errorRate !== undefined && random() < mock.errorRate;
  let response: Response;
  if (failed) {
    response = new Response("mock error", {
      status: mock.errorStatus ?? 503,
      headers: { "content-type": "text/plain", "x-terrarium-mock": mock.url },
    });
  } else {
    const headers = new Headers(mock.headers);
    headers.set("x-terrarium-mock", mock.url);
    let body: string | null = null;
    if (typeof mock.body === "string") body = mock.body;
    else if (mock.body !== undefined) {
      body = JSON.stringify(mock.body);
      if (!headers.has("content-type")) headers.set("content-type", "application/json");
    }
    const nullBody = mock.status === 204 || mock.status === 304;
    response = new Response(nullBody ? null : body, { status: mock.status, headers });
  }
  return {
    response,
    call: {
      mock: mock.url,
      method: request.method,
      url: request.url,
      status: response.status,
      latencyMs,
      injectedError: failed,
      time,
    },
  };
}

let active: { mocks: readonly MockSpec[]; onCall: (call: MockCall) => void } | null = null;

/**
 * Wraps the worker's global fetch (once) so requests that match one of
 * `mocks` get its answer; a later call replaces the mocks (a code update).
 */
export function installMockFetch(mocks: readonly MockSpec[], onCall: (call: MockCall) => void): void {
  const first = active === null;
  active = { mocks, onCall };
  if (!first || mocks.length === 0) {
    if (first) active = null;
    return;
  }
  const g = globalThis as { fetch: typeof fetch };
  const real = g.fetch;
  g.fetch = async (input: Parameters<typeof fetch>[0], init?: RequestInit): Promise<Response> => {
    const request = new Request(input, init);
    const answer = active ? await mockAnswer(active.mocks, request) : null;
    if (!answer) return real(request);
    active?.onCall(answer.call);
    return answer.response;
  };
}
