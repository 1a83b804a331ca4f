import { createHash } from "node:crypto";
import { readFileSync, statSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import type { AssetsSettings, HtmlHandling, NotFoundHandling } from "../config/wrangler.ts";
import type { SerializedResponse } from "../shared/http-wire.ts";
import { contentTypeFor } from "./content-types.ts";
import { ignoreMatcher } from "./ignore.ts";
import { applyHeaders, parseAssetRules, redirectFor, type AssetRules } from "./rules.ts";

/**
 * Static assets served as Cloudflare's asset worker serves them under
 * wrangler dev (workers-shared's asset-worker and router-worker, run by
 * Miniflare): the same html_handling and not_found_handling rules, 307
 * redirects to the canonical path, ETag / If-None-Match, HEAD, 405 for
 * other methods, and the same ETag values (a hash of the file's absolute
 * path and its modification time, as Miniflare computes them), and the
 * folder's `_redirects` and `_headers` files (rules.ts).
 *
 * Files are looked up on disk per request (a stat per candidate path), so
 * an edit or a new file is served at once, without a reload. The same
 * class runs in the Router (main thread) and behind `env.ASSETS` in each
 * worker thread: both read the folder directly.
 */

/** What the asset server needs to know; plain data, so a worker thread can get it in its CodeSpec. */
export interface AssetsSpec {
  readonly directory: string;
  readonly htmlHandling: HtmlHandling;
  readonly notFoundHandling: NotFoundHandling;
  /**
   * `assets_navigation_prefers_asset_serving` (on by default from
   * compatibility date 2025-04-01): a navigation (Sec-Fetch-Mode: navigate)
   * that matches no file gets not_found_handling's answer rather than the
   * Worker's.
   */
  readonly navigationPrefersAssets: boolean;
  /** run_worker_first is a list of rules: not_found_handling then applies before the Worker, always. */
  readonly hasStaticRouting: boolean;
}

export function assetsSpec(
  a: AssetsSettings,
  compatibilityDate: string,
  compatibilityFlags: readonly string[],
): AssetsSpec {
  const flags = new Set(compatibilityFlags);
  return {
    directory: a.directory,
    htmlHandling: a.htmlHandling,
    notFoundHandling: a.notFoundHandling,
    navigationPrefersAssets:
      flags.has("assets_navigation_prefers_asset_serving") ||
      (compatibilityDate >= "2025-04-01" && !flags.has("assets_navigation_has_no_effect")),
    hasStaticRouting: typeof a.runWorkerFirst === "object",
  };
}

export interface AssetRequest {
  readonly method: string;
  readonly url: string;
  header(name: string): string | null;
}

/** An asset to serve, found by the html_handling rules (status 404: the not-found page). */
interface Found {
  readonly kind: "asset";
  readonly file: string;
  readonly mtimeMs: number;
  readonly size: number;
  readonly status: 200 | 404;
}
interface Redirect {
  readonly kind: "redirect";
  readonly to: string;
}
type Intent = Found | Redirect | null;

const CACHE_CONTROL = "public, max-age=0, must-revalidate";
const SYNC_READ_BYTES = 128 * 1024;
const NOT_FOUND = "Not Found";

/**
 * The request path, decoded segment by segment, with runs of slashes made
 * one: the form assets are looked up by.
 */
function decodePath(pathname: string): string {
  return pathname
    .split("/")
    .map((segment) => {
      try {
        return decodeURIComponent(segment);
      } catch {
        return segment;
      }
    })
    .join("/")
    .replace(/\/+/g, "/");
}

/** The canonical (encoded) form of a decoded path; a request for any other form is redirected to it. */
function encodePath(pathname: string): string {
  return pathname
    .split("/")
    .map((segment) => encodeURIComponent(segment))
    .join("/");
}

function withoutSuffix(s: string, suffix: string): string {
  return s.slice(0, s.length - suffix.length);
}

function response(
  status: number,
  statusText: string,
  headers: [string, string][],
  body: ArrayBuffer | null,
): SerializedResponse {
  return { status, statusText, headers, body };
}

function readIfThere(file: string): string | undefined {
  try {
    return readFileSync(file, "utf8");
  } catch {
    return undefined;
  }
}

export class AssetServer {
  readonly spec: AssetsSpec;
  readonly #ignored: (relativePath: string) => boolean;
  /** The folder's _redirects and _headers, read when the server is made (as wrangler dev reads them at start). */
  readonly rules: AssetRules;

  constructor(spec: AssetsSpec) {
    this.spec = spec;
    const ignoreFile = readIfThere(join(spec.directory, ".assetsignore")) ?? "";
    this.rules = parseAssetRules(
      readIfThere(join(spec.directory, "_redirects")),
      readIfThere(join(spec.directory, "_headers")),
      spec.htmlHandling,
    );
    // wrangler never serves its own files in the folder, whatever .assetsignore says.
    this.#ignored = ignoreMatcher(["/.assetsignore", "/_redirects", "/_headers", ...ignoreFile.split("\n")]);
  }

  /** The file served at exactly `path` (decoded, from "/"), or null when there is none. */
  #lookup(path: string): { file: string; mtimeMs: number; size: number } | null {
    if (!path.startsWith("/") || path.endsWith("/")) return null;
    const rel = path.slice(1);
    for (const segment of rel.split("/")) {
      if (segment === "" || segment === "." || segment === ".." || /[\\\0]/.test(segment)) return null;
    }
    if (this.#ignored(rel)) return null;
    const file = join(this.spec.directory, rel);
    const stat = statSync(file, { throwIfNoEntry: false });
    if (!stat?.isFile()) return null;
    return { file, mtimeMs: stat.mtimeMs, size: stat.size };
  }

  #serve(path: string, status: 200 | 404 = 200): Found | null {
    const hit = this.#lookup(path);
    return hit ? { kind: "asset", ...hit, status } : null;
  }

  /**
   * A redirect from `path` to `to`, made only when `to` is not a file itself
   * and resolves (without redirects) to the same file as `file`.
   */
  #redirect(file: string, to: string, notFound: NotFoundHandling, skip: boolean): Redirect | null {
    if (skip || this.#lookup(to)) return null;
    const target = this.#intent(to, notFound, true);
    const source = this.#lookup(file);
    // The same file (Miniflare compares ETags, which stand for path and mtime).
    if (target?.kind === "asset" && source && target.file === source.file) return { kind: "redirect", to };
    return null;
  }

  #intent(path: string, notFound: NotFoundHandling, skip: boolean): Intent {
    const found = this.#htmlHandling(path, notFound, skip);
    return found ?? this.#notFound(path, notFound);
  }

  /** html_handling: which file a path serves, or where it redirects. */
  #htmlHandling(p: string, nf: NotFoundHandling, skip: boolean): Intent {
    const redirect = (file: string, to: string): Redirect | null => this.#redirect(file, to, nf, skip);
    const exact = this.#serve(p);
    switch (this.spec.htmlHandling) {
      case "none":
        return exact;

      case "auto-trailing-slash": {
        if (p.endsWith("/index")) {
          if (exact) return exact;
          const r =
            redirect(`${p}.html`, withoutSuffix(p, "index")) ??
            redirect(`${withoutSuffix(p, "/index")}.html`, withoutSuffix(p, "/index"));
          if (r) return r;
        } else if (p.endsWith("/index.html")) {
          const r =
            redirect(p, withoutSuffix(p, "index.html")) ??
            redirect(`${withoutSuffix(p, "/index.html")}.html`, withoutSuffix(p, "/index.html"));
          if (r) return r;
        } else if (p.endsWith("/")) {
          const index = this.#serve(`${p}index.html`);
          if (index) return index;
          const r = redirect(`${withoutSuffix(p, "/")}.html`, withoutSuffix(p, "/"));
          if (r) return r;
        } else if (p.endsWith(".html")) {
          const r =
            redirect(p, withoutSuffix(p, ".html")) ??
            redirect(`${withoutSuffix(p, ".html")}/index.html`, `${withoutSuffix(p, ".html")}/`);
          if (r) return r;
        }
        return exact ?? this.#serve(`${p}.html`) ?? redirect(`${p}/index.html`, `${p}/`);
      }

      case "force-trailing-slash": {
        if (p.endsWith("/index")) {
          if (exact) return exact;
          const r =
            redirect(`${p}.html`, withoutSuffix(p, "index")) ??
            redirect(`${withoutSuffix(p, "/index")}.html`, withoutSuffix(p, "index"));
          if (r) return r;
        } else if (p.endsWith("/index.html")) {
          const r =
            redirect(p, withoutSuffix(p, "index.html")) ??
            redirect(`${withoutSuffix(p, "/index.html")}.html`, withoutSuffix(p, "index.html"));
          if (r) return r;
        } else if (p.endsWith("/")) {
          const found = this.#serve(`${p}index.html`) ?? this.#serve(`${withoutSuffix(p, "/")}.html`);
          if (found) return found;
        } else if (p.endsWith(".html")) {
          const r = redirect(p, `${withoutSuffix(p, ".html")}/`);
          if (r) return r;
          // Both /foo.html and /foo/index.html: /foo.html is served at /foo.html only.
          if (exact) return exact;
          const r2 = redirect(`${withoutSuffix(p, ".html")}/index.html`, `${withoutSuffix(p, ".html")}/`);
          if (r2) return r2;
        }
        return exact ?? redirect(`${p}.html`, `${p}/`) ?? redirect(`${p}/index.html`, `${p}/`);
      }

      case "drop-trailing-slash": {
        if (p.endsWith("/index")) {
          if (exact) return exact;
          const r =
            p === "/index"
              ? redirect("/index.html", "/")
              : (redirect(`${withoutSuffix(p, "/index")}.html`, withoutSuffix(p, "/index")) ??
                redirect(`${p}.html`, withoutSuffix(p, "/index")));
          if (r) return r;
        } else if (p.endsWith("/index.html")) {
          if (p === "/index.html") {
            const r = redirect("/index.html", "/");
            if (r) return r;
          } else {
            const r = redirect(p, withoutSuffix(p, "/index.html"));
            if (r) return r;
            // Both /foo.html and /foo/index.html: /foo/index.html is served at its own path only.
            if (exact) return exact;
            const r2 = redirect(`${withoutSuffix(p, "/index.html")}.html`, withoutSuffix(p, "/index.html"));
            if (r2) return r2;
          }
        } else if (p.endsWith("/")) {
          if (p === "/") {
            const index = this.#serve("/index.html");
            if (index) return index;
          } else {
            const base = withoutSuffix(p, "/");
            const r = redirect(`${base}.html`, base) ?? redirect(`${base}/index.html`, base);
            if (r) return r;
          }
        } else if (p.endsWith(".html")) {
          const base = withoutSuffix(p, ".html");
          const r = redirect(p, base) ?? redirect(`${base}/index.html`, base);
          if (r) return r;
        }
        return exact ?? this.#serve(`${p}.html`) ?? this.#serve(`${p}/index.html`);
      }
    }
  }

  /** not_found_handling: the SPA's /index.html (200) or the nearest 404.html up the path (404). */
  #notFound(path: string, nf: NotFoundHandling): Found | null {
    if (nf === "single-page-application") return this.#serve("/index.html");
    if (nf === "404-page") {
      let dir = path;
      while (dir) {
        dir = dir.slice(0, dir.lastIndexOf("/"));
        const page = this.#serve(`${dir}/404.html`, 404);
        if (page) return page;
      }
    }
    return null;
  }

  /**
   * What the request resolves to: an asset, a redirect (its Location), a
   * 405 for a method other than GET or HEAD, or null when nothing matches.
   */
  #resolve(req: AssetRequest, url: URL, nf: NotFoundHandling): Found | SerializedResponse | null {
    // _redirects first: a redirect is the answer; a 200 rule serves another path in place.
    let pathname = url.pathname;
    let rewritten = false;
    const rule = redirectFor(this.rules, url);
    if (rule && "rewrite" in rule) {
      pathname = rule.rewrite;
      rewritten = true;
    } else if (rule) {
      return response(rule.status, rule.statusText, [["location", rule.location]], null);
    }
    const decoded = decodePath(pathname);
    const intent = this.#intent(decoded, nf, false);
    // A rewrite to nothing is the assets' own 404 (the Worker is not asked).
    if (!intent) return rewritten ? response(404, NOT_FOUND, [], null) : null;
    const method = req.method.toUpperCase();
    if (method !== "GET" && method !== "HEAD") return response(405, "Method Not Allowed", [], null);
    const destination = encodePath(intent.kind === "redirect" ? intent.to : decoded);
    if (intent.kind === "redirect" || destination !== pathname) {
      return response(307, "Temporary Redirect", [["location", destination + url.search]], null);
    }
    return intent;
  }

  /**
   * Whether the assets answer this request when a Worker is there to answer
   * otherwise: not_found_handling counts only for a navigation (with
   * navigationPrefersAssets) or under run_worker_first rules.
   */
  canFetch(req: AssetRequest): boolean {
    const keepNotFound =
      this.spec.hasStaticRouting ||
      (this.spec.navigationPrefersAssets && req.header("sec-fetch-mode") === "navigate");
    return this.#resolve(req, new URL(req.url), keepNotFound ? this.spec.notFoundHandling : "none") !== null;
  }

  /** The assets' answer to a request (what `env.ASSETS.fetch` returns). */
  async fetch(req: AssetRequest): Promise<SerializedResponse> {
    const url = new URL(req.url);
    const out = await this.#answer(req, url);
    // _headers applies to every answer, matched on the path asked for.
    return this.rules.headers.length ? { ...out, headers: applyHeaders(this.rules, url, out.headers) } : out;
  }

  async #answer(req: AssetRequest, url: URL): Promise<SerializedResponse> {
    const resolved = this.#resolve(req, url, this.spec.notFoundHandling);
    if (resolved === null) return response(404, NOT_FOUND, [], null);
    if (!("kind" in resolved)) return resolved;
    // Miniflare's ETag: the first 16 bytes of SHA-256(absolute path + mtime in ms).
    const etag = createHash("sha256")
      .update(resolved.file + resolved.mtimeMs.toString())
      .digest()
      .subarray(0, 16)
      .toString("hex");
    const headers: [string, string][] = [["etag", `"${etag}"`]];
    const type = contentTypeFor(resolved.file);
    if (type !== null) headers.push(["content-type", type]);
    if (req.header("authorization") === null && req.header("range") === null) {
      headers.push(["cache-control", CACHE_CONTROL]);
    }
    // Miniflare reports HIT for a read under 100 ms, as a local read always is.
    headers.push(["cf-cache-status", "HIT"]);
    const ifNoneMatch = req.header("if-none-match");
    if (ifNoneMatch === `"${etag}"` || ifNoneMatch === `W/"${etag}"`) {
      return response(304, "Not Modified", headers, null);
    }
    let body: ArrayBuffer | null = null;
    if (req.method.toUpperCase() !== "HEAD") {
      // A small file is read at once: the thread pool's round trip costs more (~200 µs) than the read.
      const bytes =
        resolved.size <= SYNC_READ_BYTES ? readFileSync(resolved.file) : await readFile(resolved.file);
      body = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
    }
    return resolved.status === 404
      ? response(404, NOT_FOUND, headers, body)
      : response(200, "OK", headers, body);
  }
}
