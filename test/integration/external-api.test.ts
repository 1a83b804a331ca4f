import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Engine } from "../../runtime/engine.ts";
import type { LiveEvent } from "../../runtime/api/contract.ts";
import { dispatch } from "../../runtime/api/dispatch.ts";
import { openEngine, until } from "../helpers/project.ts";
import { controlApi } from "../../runtime/api/control-api.ts";

/**
 * The control API's export, database, bucket and mock-endpoint methods on a
 * real engine running a copy of the AIDevOS sample: real SQLite, real files.
 * The copy's mock endpoint fails every call (errorRate 1), so each call is
 * an injected error.
 */
const SAMPLE = resolve(import.meta.dirname, "..", "..", "resources", "samples", "aidevos");

let root: string;
let project: string;
let engine: Engine;
const live: LiveEvent[] = [];
let unsubscribe: () => void;
let token: string;
let userId: string;

async function post(path: string, body: unknown, auth?: string): Promise<{ status: number; json: unknown }> {
  const res = await controlApi(engine).sendRequest({
    method: "POST",
    path,
    headers: [
      ["content-type", "application/json"],
      ...(auth ? ([["authorization", `Bearer ${auth}`]] as [string, string][]) : []),
    ],
    body: JSON.stringify(body),
  });
  return { status: res.status, json: JSON.parse(res.body) as unknown };
}

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), "terrarium-external-"));
  project = join(root, "project");
  cpSync(SAMPLE, project, { recursive: true, filter: (src) => !src.includes(".terrarium") });
  const config = join(project, "terrarium.json");
  const t = JSON.parse(readFileSync(config, "utf8")) as { mocks: { errorRate?: number }[] };
  t.mocks[0]!.errorRate = 1;
  writeFileSync(config, JSON.stringify(t, null, 2));
  engine = await openEngine(project, join(root, "data"));
  unsubscribe = controlApi(engine).subscribe((batch) => live.push(...batch));
  const signup = await post("/auth/signup", {
    email: "grace@example.com",
    password: "hopper hopper",
    name: "Grace",
  });
  ({ token, userId } = signup.json as { token: string; userId: string });
}, 60_000);

afterAll(async () => {
  unsubscribe?.();
  await engine?.close();
  if (root) rmSync(root, { recursive: true, force: true });
});

describe("export through the control API", () => {
  it("plans the files with sizes and text, and says what is in the output folder", async () => {
    const out = join(root, "plan-target");
    const plan = await controlApi(engine).exportPlan({ outDir: out });
    expect(plan.projectName).toBe("aidevos");
    expect(plan.target).toEqual({ outDir: out, exists: false, entries: 0 });
    const paths = plan.files.map((f) => f.path);
    expect(paths).toEqual([...paths].sort());
    for (const p of ["wrangler.jsonc", "package.json", "src/terrarium/entry.ts", "src/index.ts"])
      expect(paths).toContain(p);
    const wrangler = plan.files.find((f) => f.path === "wrangler.jsonc")!;
    expect(wrangler.generated).toBe(true);
    expect(wrangler.text).toContain('"main": "src/terrarium/entry.ts"');
    expect(wrangler.text).toContain('"d1_databases"');
    expect(wrangler.bytes).toBe(Buffer.byteLength(wrangler.text!));
    expect(plan.files.find((f) => f.path === "src/index.ts")!.generated).toBe(false);
    expect(plan.warnings).toContain("mock endpoints are for simulation only: the export calls the real URLs");
    expect(plan.checks).toEqual(["typecheck", "dry-run"]);

    mkdirSync(out);
    writeFileSync(join(out, "notes.txt"), "mine");
    expect((await controlApi(engine).exportPlan({ outDir: out })).target).toEqual({
      outDir: out,
      exists: true,
      entries: 1,
    });
  });

  it("refuses a non-empty folder without force, writes nothing, then replaces it with force", async () => {
    const out = join(root, "busy");
    mkdirSync(out);
    writeFileSync(join(out, "keep-me.txt"), "mine");
    await expect(controlApi(engine).writeExport({ outDir: out })).rejects.toThrow(/not empty/);
    expect(existsSync(join(out, "wrangler.jsonc"))).toBe(false);
    expect(readFileSync(join(out, "keep-me.txt"), "utf8")).toBe("mine");

    const result = await controlApi(engine).writeExport({ outDir: out, force: true });
    expect(result.outDir).toBe(out);
    expect(existsSync(join(out, "keep-me.txt"))).toBe(false);
    const plan = await controlApi(engine).exportPlan();
    expect(result.files).toBe(plan.files.length);
    for (const f of plan.files) {
      if (f.text !== null) expect(readFileSync(join(out, f.path), "utf8")).toBe(f.text);
    }
  });

  it("refuses the project folder, the data folder and paths that are not absolute", async () => {
    await expect(controlApi(engine).writeExport({ outDir: project, force: true })).rejects.toThrow(
      /holds the project/,
    );
    await expect(controlApi(engine).writeExport({ outDir: join(root, "data"), force: true })).rejects.toThrow(
      /data folder/,
    );
    await expect(dispatch(controlApi(engine), "writeExport", [{ outDir: "relative/out" }])).rejects.toThrow(
      /absolute folder path/,
    );
    await expect(
      dispatch(controlApi(engine), "writeExport", [{ outDir: "/tmp/x", extra: 1 }]),
    ).rejects.toThrow(/ValidationError|Unrecognized/);
    expect(existsSync(join(project, "src", "terrarium"))).toBe(false);
  });

  it("type-checks the export with the repository's typescript", async () => {
    const r = await controlApi(engine).validateExport("typecheck");
    expect(r).toMatchObject({ check: "typecheck", code: 0, ok: true, output: "" });
  }, 120_000);

  it("runs wrangler deploy --dry-run on the export and streams its output", async () => {
    const before = live.length;
    const r = await controlApi(engine).validateExport("dry-run");
    expect(r.code).toBe(0);
    expect(r.output).toContain("--dry-run: exiting now.");
    // The live stream comes in batches: the last of them may arrive just after the result.
    const streamed = (): string =>
      live
        .slice(before)
        .flatMap((e) => (e.type === "exportCheck" && e.data.check === "dry-run" ? [e.data.chunk] : []))
        .join("");
    await until(() => streamed() === r.output, "the whole output to stream");
    await expect(dispatch(controlApi(engine), "validateExport", ["deploy"])).rejects.toThrow(
      /ValidationError|Invalid/,
    );
  }, 120_000);
});

describe("the D1 database", () => {
  it("lists its tables with row counts and answers read-only SQL", async () => {
    const created = await post("/keys", { label: "ci" }, token);
    expect(created.status).toBe(201);
    const [db] = await controlApi(engine).databases();
    expect(db).toMatchObject({ binding: "DB", name: "aidevos", exists: true });
    const keys = db!.tables.find((t) => t.name === "api_keys");
    expect(keys).toMatchObject({ type: "table", rows: 1 });
    expect(keys!.sql).toMatch(/CREATE TABLE/i);

    const q = await controlApi(engine).databaseQuery({
      binding: "DB",
      sql: "SELECT label, user_id FROM api_keys WHERE label = ?",
      params: ["ci"],
    });
    expect(q).toEqual({
      columns: ["label", "user_id"],
      rows: [["ci", userId]],
      truncated: false,
      rowsWritten: 0,
    });
    await expect(
      controlApi(engine).databaseQuery({ binding: "DB", sql: "DELETE FROM api_keys" }),
    ).rejects.toThrow(/read-only/);
    expect((await controlApi(engine).databases())[0]!.tables.find((t) => t.name === "api_keys")!.rows).toBe(
      1,
    );
    await expect(controlApi(engine).databaseQuery({ binding: "NOPE", sql: "SELECT 1" })).rejects.toThrow(
      /no D1/,
    );
  });
});

describe("the R2 bucket", () => {
  it("lists keys with metadata under a prefix, a page at a time, and shows small text values", async () => {
    for (const name of ["a.txt", "b.txt", "c.bin"]) {
      const res = await controlApi(engine).sendRequest({
        method: "PUT",
        path: `/files/${name}`,
        headers: [
          ["authorization", `Bearer ${token}`],
          ["content-type", name.endsWith(".bin") ? "application/octet-stream" : "text/plain"],
        ],
        body: `contents of ${name}`,
      });
      expect(res.status).toBeLessThan(300);
    }
    expect(await controlApi(engine).buckets()).toEqual([
      { binding: "FILES", name: "aidevos-files", exists: true, objects: 3, bytes: 51 },
    ]);
    const prefix = `users/${userId}/`;
    const first = await controlApi(engine).bucketList({ binding: "FILES", prefix, limit: 2 });
    expect(first.objects.map((o) => o.key)).toEqual([`${prefix}a.txt`, `${prefix}b.txt`]);
    expect(first.truncated).toBe(true);
    expect(first.objects[0]).toMatchObject({
      size: 17,
      httpMetadata: { contentType: "text/plain" },
      customMetadata: { owner: userId },
    });
    expect(first.objects[0]!.etag).toMatch(/^[0-9a-f]{32}$/);
    expect(Math.abs(first.objects[0]!.uploaded - Date.now())).toBeLessThan(60_000);
    const second = await controlApi(engine).bucketList({
      binding: "FILES",
      prefix,
      limit: 2,
      cursor: first.cursor!,
    });
    expect(second).toMatchObject({ truncated: false, cursor: null });
    expect(second.objects.map((o) => o.key)).toEqual([`${prefix}c.bin`]);
    expect((await controlApi(engine).bucketList({ binding: "FILES", prefix: "nobody/" })).objects).toEqual(
      [],
    );

    const text = await controlApi(engine).bucketObject({ binding: "FILES", key: `${prefix}a.txt` });
    expect(text).toMatchObject({ text: "contents of a.txt", why: null });
    const binary = await controlApi(engine).bucketObject({ binding: "FILES", key: `${prefix}c.bin` });
    expect(binary).toMatchObject({ text: null, why: "not text (application/octet-stream)" });
    expect(await controlApi(engine).bucketObject({ binding: "FILES", key: "missing" })).toBeNull();
  });
});

describe("mock endpoint calls", () => {
  it("are listed and streamed with method, url, status, latency, caller and injected error", async () => {
    const { key } = (await post("/keys", { label: "quotes" }, token)).json as { key: string };
    const before = live.length;
    for (let i = 0; i < 2; i++) {
      const res = await controlApi(engine).sendRequest({
        method: "GET",
        path: "/api/v1/quote",
        headers: [["x-api-key", key]],
      });
      expect(res.status).toBe(502);
    }
    await until(
      () => live.slice(before).filter((e) => e.type === "mock").length === 2,
      "two mock calls on the live stream",
    );
    const calls = await controlApi(engine).mockCalls();
    expect(calls).toHaveLength(2);
    expect(calls[0]!.seq).toBe(2);
    expect(calls[0]).toMatchObject({
      mock: "https://api.example.com/v1/",
      method: "GET",
      url: "https://api.example.com/v1/quote",
      status: 503,
      injectedError: true,
      className: "ApiGateway",
    });
    expect(calls[0]!.objectId).toMatch(/^[0-9a-f]{64}$/);
    expect(calls[0]!.latencyMs).toBeGreaterThanOrEqual(20);
    expect(calls[0]!.latencyMs).toBeLessThanOrEqual(120);
    expect(await controlApi(engine).mockCalls({ before: 2 })).toEqual([calls[1]]);
    expect(await controlApi(engine).mocks()).toEqual([
      {
        url: "https://api.example.com/v1/",
        method: null,
        status: 200,
        latencyMs: [20, 120],
        errorRate: 1,
        errorStatus: 503,
        calls: 2,
      },
    ]);
  });
});
