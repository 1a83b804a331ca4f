import { writeFileSync } from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";
import { describe, expect, it } from "vitest";
import { enginesPerTest, request } from "../helpers/project.ts";
import { controlApi } from "../../runtime/api/control-api.ts";

const engines = enginesPerTest();

describe("Workers KV, secrets and Cloudflare-only bindings", () => {
  it("keeps a namespace's keys in the data folder across a restart, and drops expired ones", async () => {
    const t = await engines.open("kv");
    expect((await request(t.engine, "POST", "/put?key=alice&value=s1")).status).toBe(200);
    expect((await request(t.engine, "POST", "/put?key=bob&value=s2")).status).toBe(200);

    // One key has expired by the restart (stored as workerd stores it: seconds since the epoch).
    const db = new Database(join(t.project.dataDir, "kv", "sessions-id.sqlite"));
    db.prepare("UPDATE kv SET expiration = ? WHERE key = 'bob'").run(Math.floor(Date.now() / 1000) - 1);
    db.close();
    const engine = await t.reopen();

    expect((await request(engine, "GET", "/get?key=alice")).json).toEqual({
      value: "s1",
      metadata: { by: "fixture" },
      cacheStatus: null,
    });
    expect((await request(engine, "GET", "/get?key=bob")).json).toMatchObject({ value: null });
    expect((await request(engine, "GET", "/list")).json).toEqual({
      keys: [{ name: "alice", metadata: { by: "fixture" } }],
      list_complete: true,
      cacheStatus: null,
    });
  });

  it("puts .dev.vars secrets in env over vars, and lists their names but never their values", async () => {
    const t = await engines.open("kv");
    writeFileSync(join(t.project.dir, ".dev.vars"), "API_TOKEN=s3cret-value\nGREETING=from dev vars\n");
    const engine = await t.reopen();
    expect((await request(engine, "GET", "/env")).json).toEqual({
      greeting: "from dev vars",
      token: "s3cret-value",
    });
    const design = await controlApi(engine).design();
    expect(design.external).toContainEqual({
      kind: "vars",
      binding: "API_TOKEN",
      detail: "secret (.dev.vars)",
    });
    expect(JSON.stringify(design)).not.toContain("s3cret-value");
  });

  it("opens a project with a Cloudflare-only binding; using it fails with a clear error", async () => {
    const { engine } = await engines.open("kv");
    const ai = await request(engine, "GET", "/ai");
    expect(ai.status).toBe(200);
    expect((ai.json as { error: string }).error).toMatch(
      /^env\.AI\.run\(\): AI is Workers AI, which runs only on Cloudflare's network/,
    );
    expect((await controlApi(engine).design()).external).toContainEqual({
      kind: "remote",
      binding: "AI",
      detail: "Workers AI (Cloudflare only)",
    });
  });
});
