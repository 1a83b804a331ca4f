import { unavailable } from "./unavailable.ts";

/** Terrarium's `cloudflare:sockets`: loads, and `connect()` says TCP sockets are not available. */
export function connect(_address: unknown, _options?: unknown): never {
  return unavailable("connect() from cloudflare:sockets", "outbound TCP sockets are not simulated");
}

/** Internal to workerd (used by its own HTTP client); present so the module's shape matches. */
export function internalNewHttpClient(_socket: unknown): never {
  return unavailable("internalNewHttpClient() from cloudflare:sockets");
}
