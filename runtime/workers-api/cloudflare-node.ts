import { unavailable } from "./unavailable.ts";

/**
 * Terrarium's `cloudflare:node`: loads; serving a Node `http` server from a
 * Worker needs workerd's node:http, which Terrarium does not provide.
 */
export function httpServerHandler(_portOrServer: unknown): never {
  return unavailable("httpServerHandler() from cloudflare:node");
}

export function handleAsNodeRequest(
  _port: unknown,
  _request: unknown,
  _env?: unknown,
  _ctx?: unknown,
): never {
  return unavailable("handleAsNodeRequest() from cloudflare:node");
}
