export interface Env {
  ASSETS: Fetcher;
}

export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    const url = new URL(request.url);
    if (url.pathname === "/api/asset") {
      // The binding applies not_found_handling to every request, navigation or not.
      const res = await env.ASSETS.fetch(new URL(url.searchParams.get("path") ?? "/", url));
      return Response.json({
        status: res.status,
        contentType: res.headers.get("content-type"),
        redirected: res.headers.get("location"),
        body: await res.text(),
      });
    }
    return Response.json({
      worker: true,
      method: request.method,
      path: url.pathname,
      mode: request.headers.get("sec-fetch-mode"),
    });
  },
} satisfies ExportedHandler<Env>;
