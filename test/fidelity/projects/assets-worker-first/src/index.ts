export interface Env {
  ASSETS: Fetcher;
}

export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    const url = new URL(request.url);
    if (url.pathname.startsWith("/api/")) return Response.json({ worker: true, path: url.pathname });
    if (url.pathname === "/private.html" && request.headers.get("authorization") !== "Bearer ok") {
      return new Response("sign in first", { status: 401 });
    }
    const asset = await env.ASSETS.fetch(request);
    const res = new Response(asset.body, asset);
    res.headers.set("x-worker-first", "1");
    return res;
  },
} satisfies ExportedHandler<Env>;
