import { deserializeResponse } from "./http-serialize.ts";
import { unreadRecord } from "./lazy-request.ts";
import type { SerializedResponse } from "./protocol.ts";
import { AssetServer, type AssetsSpec } from "../assets/asset-server.ts";

const REDIRECTS = new Set([301, 302, 303, 307, 308]);
const MAX_REDIRECTS = 20;

/**
 * `env.ASSETS` (wrangler's `assets.binding`): a Fetcher whose `fetch`
 * answers as the assets would, whatever run_worker_first says (as on
 * Cloudflare, the binding goes straight to the asset worker). It runs in
 * the worker thread and reads the folder itself: no call to the main
 * thread on the way.
 */
export class AssetsBinding {
  readonly #server: AssetServer;

  constructor(spec: AssetsSpec) {
    this.#server = new AssetServer(spec);
  }

  async fetch(input: Request | string | URL, init?: RequestInit): Promise<Response> {
    let request = input instanceof Request && init === undefined ? input : new Request(input, init);
    for (let hops = 0; ; hops++) {
      const out = await this.#ask(request);
      const location = REDIRECTS.has(out.status)
        ? out.headers.find(([k]) => k === "location")?.[1]
        : undefined;
      // Like any Fetcher, the binding follows redirects unless the request says otherwise.
      if (location === undefined || request.redirect === "manual") return deserializeResponse(out);
      if (request.redirect === "error") throw new TypeError("Fetch failed: the response was a redirect.");
      if (hops === MAX_REDIRECTS) throw new TypeError("Fetch failed: too many redirects.");
      const keepMethod = out.status === 307 || out.status === 308 || request.method === "HEAD";
      request = new Request(new URL(location, request.url), {
        method: keepMethod ? request.method : "GET",
        headers: request.headers,
      });
    }
  }

  #ask(request: Request): Promise<SerializedResponse> {
    // The request the Worker was handed, passed on unread: its record has all we need.
    const record = unreadRecord(request);
    const headers = record?.headers;
    return this.#server.fetch({
      method: request.method,
      url: request.url,
      header: headers
        ? (name) => headers.find(([k]) => k.toLowerCase() === name)?.[1] ?? null
        : (name) => request.headers.get(name),
    });
  }
}
