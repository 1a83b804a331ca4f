import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import ts from "typescript";
import { afterEach, describe, expect, it } from "vitest";
import { loadProject } from "../../../runtime/config/project.ts";
import { envTypes, workersTypes } from "../../../runtime/design/env-types.ts";
import { run } from "../../helpers/cli.ts";

const WRANGLER = resolve(import.meta.dirname, "..", "..", "..", "node_modules", ".bin", "wrangler");

const CONFIG = `{
  "name": "typed",
  "main": "src/index.ts",
  "compatibility_date": "2025-04-01",
  "compatibility_flags": ["nodejs_compat"],
  "durable_objects": { "bindings": [
    { "name": "ROOMS", "class_name": "Room" },
    { "name": "USERS", "class_name": "User" },
  ] },
  "migrations": [{ "tag": "v1", "new_sqlite_classes": ["Room", "User"] }],
  "kv_namespaces": [{ "binding": "CACHE", "id": "abc" }],
  "d1_databases": [{ "binding": "DB", "database_name": "db", "database_id": "00000000-0000-4000-8000-000000000001" }],
  "r2_buckets": [{ "binding": "FILES", "bucket_name": "files" }],
  "vars": { "GREETING": "hello", "LIMIT": 3, "DEBUG": true, "OPTIONS": { "a": 1, "b": "x" } },
}
`;

const SOURCE = `import { DurableObject } from "cloudflare:workers";

export class Room extends DurableObject<Env> {
  count(): number {
    return this.ctx.storage.sql.exec<{ n: number }>("SELECT 1 AS n").one().n;
  }
}

export class User extends DurableObject<Env> {
  async room(): Promise<number> {
    return this.env.ROOMS.getByName("lobby").count();
  }
}

export default {
  async fetch(_request: Request, env: Env): Promise<Response> {
    await env.CACHE.put("k", env.GREETING);
    return new Response(String(env.LIMIT + 1));
  },
} satisfies ExportedHandler<Env>;
`;

const roots: string[] = [];
afterEach(() => {
  for (const r of roots.splice(0)) rmSync(r, { recursive: true, force: true });
});

function project(source = SOURCE): string {
  const dir = mkdtempSync(join(tmpdir(), "terrarium-types-"));
  roots.push(dir);
  mkdirSync(join(dir, "src"));
  writeFileSync(join(dir, "wrangler.jsonc"), CONFIG);
  writeFileSync(join(dir, "src", "index.ts"), source);
  writeFileSync(join(dir, ".dev.vars"), "API_KEY=secret\n");
  return dir;
}

/** The declaration without its two header lines (the generator's name and hash differ). */
const body = (text: string) => text.split("\n").slice(2).join("\n");

/** Type-checks the project's src/index.ts with workers-types and the Env declaration, as the editor does. */
function diagnostics(dir: string, env: string): string[] {
  const types = workersTypes(dir);
  if (!types) throw new Error("@cloudflare/workers-types is not installed");
  const files = new Map<string, string>([
    ["/p/workers.d.ts", types.text],
    ["/p/worker-configuration.d.ts", env],
    ["/p/src/index.ts", readFileSync(join(dir, "src", "index.ts"), "utf8")],
  ]);
  const options: ts.CompilerOptions = {
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.ESNext,
    moduleResolution: ts.ModuleResolutionKind.Bundler,
    strict: true,
    noEmit: true,
    lib: ["lib.es2023.d.ts"],
    types: [],
  };
  const host = ts.createCompilerHost(options);
  const read = host.getSourceFile.bind(host);
  host.getSourceFile = (name, lang) => {
    const text = files.get(name);
    return text !== undefined ? ts.createSourceFile(name, text, lang) : read(name, lang);
  };
  host.fileExists = (name) => files.has(name) || ts.sys.fileExists(name);
  host.readFile = (name) => files.get(name) ?? ts.sys.readFile(name);
  const program = ts.createProgram([...files.keys()], options, host);
  return ts
    .getPreEmitDiagnostics(program)
    .filter((d) => d.file?.fileName === "/p/src/index.ts")
    .map((d) => ts.flattenDiagnosticMessageText(d.messageText, "\n"));
}

describe("the Env declaration (terrarium types)", () => {
  it("is what `wrangler types --include-runtime=false` writes for the same project", async () => {
    const dir = project();
    await promisify(execFile)(WRANGLER, ["types", "--include-runtime=false", "wrangler-types.d.ts"], {
      cwd: dir,
      env: { ...process.env, WRANGLER_SEND_METRICS: "false", CI: "1" },
    });
    const theirs = readFileSync(join(dir, "wrangler-types.d.ts"), "utf8");
    expect(theirs).toContain('ROOMS: DurableObjectNamespace<import("./src/index").Room>;');
    expect(body(envTypes(loadProject(dir)))).toBe(body(theirs));
  }, 60_000);

  it("types the code with the Workers types: storage.sql, RPC on stubs, vars as literals", () => {
    const dir = project();
    expect(diagnostics(dir, envTypes(loadProject(dir)))).toEqual([]);
    const wrong = project(SOURCE.replace("String(env.LIMIT + 1)", "env.LIMIT.toUpperCase()"));
    const errors = diagnostics(wrong, envTypes(loadProject(wrong)));
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/Property 'toUpperCase' does not exist on type '3'/);
  }, 60_000);

  it("takes the Workers types from the project's own node_modules when it has them, else Terrarium's", () => {
    const dir = project();
    const shipped = workersTypes(dir);
    expect(shipped).toMatchObject({ source: "terrarium" });
    expect(shipped!.text).toContain('declare module "cloudflare:workers"');
    const own = join(dir, "node_modules", "@cloudflare", "workers-types");
    mkdirSync(own, { recursive: true });
    writeFileSync(
      join(own, "package.json"),
      JSON.stringify({ name: "@cloudflare/workers-types", version: "4.1.0" }),
    );
    writeFileSync(join(own, "index.d.ts"), "declare const PROJECT_TYPES: true;\n");
    expect(workersTypes(dir)).toEqual({
      source: "project",
      version: "4.1.0",
      text: "declare const PROJECT_TYPES: true;\n",
    });
  });

  it("declares Terrarium's Event Bus binding with the shape it has at run time", () => {
    const dir = project();
    writeFileSync(join(dir, "terrarium.json"), JSON.stringify({ eventBus: { binding: "EVENTS" } }));
    expect(envTypes(loadProject(dir))).toContain(
      "EVENTS: { publish(topic: string, data: unknown): Promise<{ id: number }> };",
    );
  });

  it("is written by `terrarium types <dir>`; a broken config writes nothing and says why", async () => {
    const dir = project();
    const ok = await run(["types", dir]);
    expect(ok.code).toBe(0);
    expect(ok.output).toContain("worker-configuration.d.ts");
    expect(readFileSync(join(dir, "worker-configuration.d.ts"), "utf8")).toBe(envTypes(loadProject(dir)));

    const broken = project();
    writeFileSync(join(broken, "wrangler.jsonc"), CONFIG.replace('"2025-04-01"', '"soon"'));
    const bad = await run(["types", broken]);
    expect(bad.code).toBe(1);
    expect(bad.output).toMatch(/compatibility_date/);
    expect(existsSync(join(broken, "worker-configuration.d.ts"))).toBe(false);
  }, 60_000);
});
