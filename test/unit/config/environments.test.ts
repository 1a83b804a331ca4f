import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadProject } from "../../../runtime/config/project.ts";

function project(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), "terrarium-env-"));
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(join(dir, name, ".."), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  return dir;
}

const MAIN = "export default { fetch() { return new Response('ok') } }";

const CONFIG = `{
  "name": "shop",
  "main": "src/index.ts",
  "compatibility_date": "2025-04-01",
  "compatibility_flags": ["nodejs_compat"],
  "vars": { "LEVEL": "top", "ONLY_TOP": "1" },
  "define": { "__X__": "1" },
  "kv_namespaces": [{ "binding": "CACHE", "id": "top" }],
  "durable_objects": { "bindings": [{ "name": "CART", "class_name": "Cart" }] },
  "migrations": [{ "tag": "v1", "new_sqlite_classes": ["Cart"] }],
  "env": {
    "staging": {
      "vars": { "LEVEL": "staging" },
      "durable_objects": { "bindings": [{ "name": "CART", "class_name": "Cart", "script_name": "shop-staging" }] },
    },
    "production": { "name": "shop-live", "compatibility_date": "2025-06-01" },
  },
}`;

describe("named environments (--env)", () => {
  const dir = project({ "src/index.ts": MAIN, "wrangler.jsonc": CONFIG });

  it("reads the top level when no environment is asked for, whatever `env` holds", () => {
    const p = loadProject(dir);
    expect(p.env).toBeNull();
    expect(p.wrangler.name).toBe("shop");
    expect(p.wrangler.vars).toEqual({ LEVEL: "top", ONLY_TOP: "1" });
    expect(p.wrangler.notes).toEqual([]);
  });

  it("inherits main, compatibility and migrations, but not vars, define or bindings, as wrangler does", () => {
    const p = loadProject(dir, { env: "staging" });
    const w = p.wrangler;
    expect(p.env).toBe("staging");
    expect(w.env).toBe("staging");
    // wrangler appends the environment's name: Durable Object ids derive from it.
    expect(w.name).toBe("shop-staging");
    expect(w.main).toBe(join(dir, "src/index.ts"));
    expect(w.compatibilityDate).toBe("2025-04-01");
    expect(w.compatibilityFlags).toEqual(["nodejs_compat"]);
    expect(w.migrations.map((m) => m.tag)).toEqual(["v1"]);
    expect(w.vars).toEqual({ LEVEL: "staging" });
    expect(w.define).toEqual({});
    expect(w.raw.kv_namespaces).toBeUndefined();
    // script_name naming the environment's own Worker is this Worker.
    expect(w.durableObjects).toEqual([{ binding: "CART", className: "Cart" }]);
    expect(w.notes.join("\n")).toMatch(/"kv_namespaces" exists at the top level .* not on "env.staging"/);
    expect(w.notes.join("\n")).toMatch(/"define" exists at the top level/);
  });

  it("takes the section's own name and settings over the top level's", () => {
    const w = loadProject(dir, { env: "production" }).wrangler;
    expect(w.name).toBe("shop-live");
    expect(w.compatibilityDate).toBe("2025-06-01");
    expect(w.durableObjects).toEqual([]);
    expect(w.vars).toEqual({});
  });

  it("refuses an environment the config does not have, naming those it has", () => {
    expect(() => loadProject(dir, { env: "qa" })).toThrow(
      'wrangler.jsonc: env: no environment "qa" (--env): the config has "staging", "production"',
    );
    const plain = project({
      "src/index.ts": MAIN,
      "wrangler.jsonc": `{ "main": "src/index.ts", "compatibility_date": "2025-04-01" }`,
    });
    expect(() => loadProject(plain, { env: "staging" })).toThrow(/the config has no `env` section/);
  });

  it("names a wrong field inside the environment's section", () => {
    const bad = project({
      "src/index.ts": MAIN,
      "wrangler.jsonc": `{ "main": "src/index.ts", "compatibility_date": "2025-04-01",
        "env": { "dev": { "durable_objects": { "bindings": [{ "name": "9x", "class_name": "A" }] } } } }`,
    });
    expect(() => loadProject(bad, { env: "dev" })).toThrow(
      /^wrangler\.jsonc: env\.dev\.durable_objects\.bindings\[0\]\.name: must be a JavaScript identifier/,
    );
    // The top level is still checked where the environment inherits it.
    const badTop = project({
      "src/index.ts": MAIN,
      "wrangler.jsonc": `{ "main": "src/index.ts", "compatibility_date": "April", "env": { "dev": {} } }`,
    });
    expect(() => loadProject(badTop, { env: "dev" })).toThrow(/^wrangler\.jsonc: compatibility_date: /);
  });

  it("reads .dev.vars.<env> for an environment, .dev.vars otherwise", () => {
    const d = project({
      "src/index.ts": MAIN,
      "wrangler.jsonc": CONFIG,
      ".dev.vars": "TOKEN=dev",
      ".dev.vars.staging": "TOKEN=staging",
    });
    expect(loadProject(d).devVars.values).toEqual({ TOKEN: "dev" });
    expect(loadProject(d, { env: "staging" }).devVars.values).toEqual({ TOKEN: "staging" });
    expect(loadProject(d, { env: "production" }).devVars.values).toEqual({ TOKEN: "dev" });
  });
});

describe("service bindings and several Workers (-c)", () => {
  const FRONT = `{ "name": "front", "main": "src/index.ts", "compatibility_date": "2025-04-01",
    "vars": { "A": "1" },
    "services": [{ "binding": "BACK", "service": "back" }, { "binding": "ADMIN", "service": "back", "entrypoint": "Admin" }] }`;

  it("reads `services` with their entrypoints", () => {
    const d = project({ "src/index.ts": MAIN, "wrangler.jsonc": FRONT });
    expect(loadProject(d).wrangler.services).toEqual([
      { binding: "BACK", service: "back", entrypoint: null },
      { binding: "ADMIN", service: "back", entrypoint: "Admin" },
    ]);
  });

  it("refuses a service binding whose name another binding has", () => {
    const d = project({
      "src/index.ts": MAIN,
      "wrangler.jsonc": `{ "main": "src/index.ts", "compatibility_date": "2025-04-01", "vars": { "BACK": "x" },
        "services": [{ "binding": "BACK", "service": "back" }] }`,
    });
    expect(() => loadProject(d)).toThrow(
      "wrangler.jsonc: services[0].binding: binding BACK is declared twice",
    );
  });

  it("loads every -c config, the first as the project's Worker, each from its own folder", () => {
    const d = project({
      "src/index.ts": MAIN,
      "wrangler.jsonc": FRONT,
      "back/src/index.ts": MAIN,
      "back/wrangler.jsonc": `{ "name": "back", "main": "src/index.ts", "compatibility_date": "2025-04-01" }`,
      "back/.dev.vars": "SECRET=s",
    });
    const p = loadProject("/nowhere", {
      configs: [join(d, "wrangler.jsonc"), join(d, "back/wrangler.jsonc")],
    });
    expect(p.dir).toBe(d);
    expect(p.wrangler.name).toBe("front");
    expect(p.workers.map((w) => [w.wrangler.name, w.wrangler.main, w.devVars.values])).toEqual([
      ["back", join(d, "back/src/index.ts"), { SECRET: "s" }],
    ]);
  });

  it("refuses two Workers with one name, and a missing config", () => {
    const d = project({ "src/index.ts": MAIN, "wrangler.jsonc": FRONT, "copy.jsonc": FRONT });
    expect(() => loadProject(d, { configs: [join(d, "wrangler.jsonc"), join(d, "copy.jsonc")] })).toThrow(
      /copy\.jsonc: name: two Workers are named "front"/,
    );
    expect(() => loadProject(d, { configs: [join(d, "wrangler.jsonc"), join(d, "gone.jsonc")] })).toThrow(
      /no such config file: .*gone\.jsonc/,
    );
  });

  it("reads a Durable Object binding to another Worker's class (script_name), which that Worker must bind", () => {
    const front = `{ "name": "a", "main": "src/index.ts", "compatibility_date": "2025-04-01",
        "durable_objects": { "bindings": [{ "name": "R", "class_name": "Room", "script_name": "rooms" }] } }`;
    const d = project({
      "src/index.ts": MAIN,
      "wrangler.jsonc": front,
      "rooms/src/index.ts": MAIN,
      "rooms/wrangler.jsonc": `{ "name": "rooms", "main": "src/index.ts", "compatibility_date": "2025-04-01" }`,
    });
    const w = loadProject(d).wrangler;
    expect(w.durableObjects).toEqual([]);
    expect(w.foreignDurableObjects).toEqual([{ binding: "R", className: "Room", scriptName: "rooms" }]);
    expect(() =>
      loadProject(d, { configs: [join(d, "wrangler.jsonc"), join(d, "rooms/wrangler.jsonc")] }),
    ).toThrow(
      "wrangler.jsonc: durable_objects.bindings: R: the Worker rooms has no Durable Object binding for class Room; bind it there (with its migration)",
    );
  });
});
