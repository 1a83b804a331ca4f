export interface Env {
  ASSETS: Fetcher;
}

export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    const url = new URL(request.url);
    if (url.pathname === "/via-binding") {
      const res = await env.ASSETS.fetch(new Request(new URL("/old-page", url), { redirect: "manual" }));
      return Response.json({ status: res.status, location: res.headers.get("location") });
    }
    return Response.json({ worker: true, path: url.pathname });
  },
} satisfies ExportedHandler<Env>;
