export interface Env {
  ASSETS: Fetcher;
}

/** What a binding call answered, in a form both runtimes give alike. */
async function summary(res: Response): Promise<Record<string, unknown>> {
  return {
    status: res.status,
    contentType: res.headers.get("content-type"),
    location: res.headers.get("location"),
    etag: /^"[0-9a-f]{32}"$/.test(res.headers.get("etag") ?? ""),
    cacheControl: res.headers.get("cache-control"),
    body: await res.text(),
  };
}

export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    const url = new URL(request.url);
    // run_worker_first sends /about here first; the Worker serves the asset with a header of its own.
    if (url.pathname === "/about") {
      const asset = await env.ASSETS.fetch(request);
      const res = new Response(asset.body, asset);
      res.headers.set("x-served-by", "worker");
      return res;
    }
    if (url.pathname === "/api/asset") {
      const path = url.searchParams.get("path") ?? "/";
      const method = url.searchParams.get("method") ?? "GET";
      const headers = new Headers();
      const inm = url.searchParams.get("if-none-match");
      if (inm !== null) headers.set("if-none-match", inm);
      const res = await env.ASSETS.fetch(new Request(new URL(path, url), { method, headers }));
      return Response.json(await summary(res));
    }
    if (url.pathname === "/api/etag") {
      const res = await env.ASSETS.fetch(new URL("/style.css", url));
      return Response.json({ etag: res.headers.get("etag") });
    }
    return Response.json({ worker: true, method: request.method, path: url.pathname });
  },
} satisfies ExportedHandler<Env>;
