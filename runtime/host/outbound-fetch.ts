import { markStreamed } from "./response.ts";

let installed = false;

/**
 * Wraps the worker's global fetch (once, around the mocks' wrapper if any)
 * so that the response of an outbound request is handed on as a stream:
 * a Worker or an object that returns `fetch(upstream)` passes the body on
 * to its caller as it arrives (Server-Sent Events, a large download), as
 * workerd does, instead of reading it in full first.
 */
export function installOutboundFetch(): void {
  if (installed) return;
  installed = true;
  const g = globalThis as { fetch: typeof fetch };
  const inner = g.fetch;
  g.fetch = async (input: Parameters<typeof fetch>[0], init?: RequestInit): Promise<Response> => {
    const response = await inner(input, init);
    markStreamed(response);
    return response;
  };
}
