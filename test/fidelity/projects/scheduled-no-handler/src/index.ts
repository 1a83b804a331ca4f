import { WorkerEntrypoint } from "cloudflare:workers";

export default class extends WorkerEntrypoint {
  override async fetch(request: Request): Promise<Response> {
    return new Response(`fetch ${new URL(request.url).pathname}`);
  }
}
