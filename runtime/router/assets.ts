import { AssetServer, assetsSpec, type AssetRequest } from "../assets/asset-server.ts";
import type { WranglerProject } from "../config/wrangler.ts";

/** A run_worker_first rule ("/api/*") as a pattern over the request path: `*` matches anything. */
function globRule(rule: string): RegExp {
  const body = rule
    .split("*")
    .map((part) => part.replace(/[-/\\^$*+?.()|[\]{}]/g, "\\$&"))
    .join(".*");
  return new RegExp(`^${body}$`);
}

/**
 * Which requests the static assets answer before the Worker, as
 * Cloudflare's router worker decides: a `!` run_worker_first rule sends
 * its paths to the assets, another rule sends its paths to the Worker,
 * `run_worker_first: true` sends everything to the Worker; otherwise the
 * assets answer what they can (see AssetServer.canFetch) and the Worker the
 * rest. A project with no Worker gets every answer from the assets.
 */
export class AssetRouting {
  readonly server: AssetServer;
  readonly #hasWorker: boolean;
  readonly #workerFirst: boolean;
  readonly #workerRules: RegExp[];
  readonly #assetRules: RegExp[];
  /** Lines of _redirects and _headers that are skipped, and why (wrangler dev prints them too). */
  readonly notes: readonly string[];

  constructor(project: WranglerProject) {
    const a = project.assets;
    if (!a) throw new Error("the project has no assets");
    this.server = new AssetServer(assetsSpec(a, project.compatibilityDate, project.compatibilityFlags));
    this.#hasWorker = project.hasWorker;
    this.#workerFirst = a.runWorkerFirst === true;
    const rules = typeof a.runWorkerFirst === "object" ? a.runWorkerFirst : { worker: [], assets: [] };
    this.#workerRules = rules.worker.map(globRule);
    this.#assetRules = rules.assets.map(globRule);
    this.notes = this.server.rules.problems.map((p) => `assets: ${p} (skipped, as wrangler skips it)`);
  }

  /** Whether the assets answer this request (else the Worker does). */
  servesAssets(req: AssetRequest, pathname: string): boolean {
    if (this.#assetRules.some((r) => r.test(pathname))) return true;
    if (this.#workerRules.some((r) => r.test(pathname))) return false;
    if (this.#workerFirst) return false;
    return !this.#hasWorker || this.server.canFetch(req);
  }
}
