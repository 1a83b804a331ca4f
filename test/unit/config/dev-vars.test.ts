import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { loadDevVars, parseDotenv } from "../../../runtime/config/dev-vars.ts";
import { ProjectError } from "../../../runtime/config/errors.ts";

let dir: string | null = null;
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = null;
});

function folder(files: Record<string, string>): string {
  dir = mkdtempSync(join(tmpdir(), "terrarium-devvars-"));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

describe(".dev.vars", () => {
  it("parses dotenv: comments, export, quotes, escapes in double quotes, multi-line values", () => {
    const text = [
      "# a comment",
      "API_TOKEN=abc123",
      "export REGION = eu  # trailing comment",
      'QUOTED="two\\nlines"',
      "SINGLE='kept \\n as is'",
      'PEM="-----BEGIN-----',
      "body",
      '-----END-----"',
      "EMPTY=",
    ].join("\n");
    expect(parseDotenv(text, ".dev.vars")).toEqual({
      API_TOKEN: "abc123",
      REGION: "eu",
      QUOTED: "two\nlines",
      SINGLE: "kept \\n as is",
      PEM: "-----BEGIN-----\nbody\n-----END-----",
      EMPTY: "",
    });
  });

  it("refuses a malformed line with its file and line", () => {
    try {
      parseDotenv("OK=1\nnot a pair\n", ".dev.vars");
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(ProjectError);
      expect(String(e)).toMatch(/\.dev\.vars:2.*expected KEY=value/);
    }
  });

  it("reads .dev.vars, else the .env files in wrangler's order, and .dev.vars.<env> for an environment", () => {
    expect(loadDevVars(folder({ ".dev.vars": "A=dev", ".env": "A=env" })).values).toEqual({ A: "dev" });
    rmSync(dir!, { recursive: true });
    expect(loadDevVars(folder({ ".env": "A=env\nB=1", ".env.local": "A=local" })).values).toEqual({
      A: "local",
      B: "1",
    });
    rmSync(dir!, { recursive: true });
    const d = folder({ ".dev.vars": "A=dev", ".dev.vars.staging": "A=staging" });
    expect(loadDevVars(d, "staging").values).toEqual({ A: "staging" });
    expect(loadDevVars(d, "production").values).toEqual({ A: "dev" });
    rmSync(dir!, { recursive: true });
    expect(loadDevVars(folder({})).files).toEqual([]);
  });
});
