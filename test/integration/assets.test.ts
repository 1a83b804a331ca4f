import { cpSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Engine } from "../../runtime/engine.ts";
import { openEngine } from "../helpers/project.ts";

const ASSETS = resolve(import.meta.dirname, "..", "fidelity", "projects", "assets");

let root: string;
let dir: string;
let engine: Engine | null = null;
let url: string;

beforeEach(async () => {
  root = mkdtempSync(join(tmpdir(), "terrarium-assets-"));
  dir = join(root, "project");
  cpSync(ASSETS, dir, { recursive: true });
});

afterEach(async () => {
  await engine?.close();
  engine = null;
  rmSync(root, { recursive: true, force: true });
});

async function start(): Promise<void> {
  engine = await openEngine(dir, join(root, "data"));
  url = `http://127.0.0.1:${await engine.listen(0)}`;
}

/** What the Worker's env.ASSETS.fetch answered for a path (see the project's /api/asset). */
async function viaBinding(path: string): Promise<{ status: number; body: string }> {
  return (await fetch(`${url}/api/asset?path=${encodeURIComponent(path)}`)).json() as Promise<{
    status: number;
    body: string;
  }>;
}

describe("static assets", () => {
  it("serves an edited file and a new one at once, from the Router and env.ASSETS, with a new ETag", async () => {
    await start();
    const first = await fetch(`${url}/style.css`);
    const etag = first.headers.get("etag")!;
    expect(etag).toMatch(/^"[0-9a-f]{32}"$/);
    const text = await first.text();
    expect(text).toContain("font-family");
    // Sent with its length, as workerd sends it (not chunked).
    expect(first.headers.get("content-length")).toBe(String(Buffer.byteLength(text)));
    const redirect = await fetch(`${url}/docs`, { redirect: "manual" });
    expect([redirect.status, redirect.headers.get("content-length")]).toEqual([307, "0"]);

    const css = join(dir, "public", "style.css");
    writeFileSync(css, "h1 { color: red; }\n");
    // A modification time of its own, whatever the clock's resolution.
    const later = new Date(Date.now() + 60_000);
    utimesSync(css, later, later);
    const edited = await fetch(`${url}/style.css`, { headers: { "if-none-match": etag } });
    expect(edited.status).toBe(200);
    expect(edited.headers.get("etag")).not.toBe(etag);
    expect(await edited.text()).toBe("h1 { color: red; }\n");
    expect(await viaBinding("/style.css")).toMatchObject({ status: 200, body: "h1 { color: red; }\n" });

    writeFileSync(join(dir, "public", "new.txt"), "new\n");
    const added = await fetch(`${url}/new.txt`);
    expect([added.status, await added.text()]).toEqual([200, "new\n"]);
    expect(await viaBinding("/new.txt")).toMatchObject({ status: 200, body: "new\n" });
  });

  it("applies _redirects, says which lines it skips, and does not serve the file", async () => {
    writeFileSync(join(dir, "public", "_redirects"), "/old /about 301\n/gone /about 404\n");
    await start();
    expect(engine!.notes).toEqual([
      "assets: _redirects:2: valid status codes are 200, 301, 302 (default), 303, 307 and 308, not 404 (skipped, as wrangler skips it)",
    ]);
    const moved = await fetch(`${url}/old`, { redirect: "manual" });
    expect([moved.status, moved.headers.get("location")]).toEqual([301, "/about"]);
    const file = await fetch(`${url}/_redirects`, { redirect: "manual" });
    expect(file.status).toBe(404);
    expect(await file.text()).toContain("No such page");
  });

  it("refuses a reload whose assets folder is missing, naming the field, and keeps serving", async () => {
    await start();
    const config = join(dir, "wrangler.jsonc");
    writeFileSync(config, readFileSync(config, "utf8").replace('"./public"', '"./dist"'));
    const r = await engine!.reload();
    expect(r.ok).toBe(false);
    expect(r.error).toBe("wrangler.jsonc: assets.directory: ./dist does not exist");
    expect((await fetch(`${url}/docs/`)).status).toBe(200);
  });
});
