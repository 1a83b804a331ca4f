import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { idFromName, namespaceKey } from "../../runtime/shared/ids.ts";
import { run, serve, type Served } from "../helpers/cli.ts";

let root: string;
let served: Served | null = null;

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), "terrarium-new-"));
});

afterEach(async () => {
  await served?.stop("SIGKILL");
  served = null;
  rmSync(root, { recursive: true, force: true });
});

describe("terrarium new", () => {
  it("creates a project from the counter sample, named after its folder, that serves at once", async () => {
    const dir = join(root, "My Tally");
    const made = await run(["new", dir]);
    expect(made.code).toBe(0);
    expect(made.output).toContain(`Created my-tally in ${dir}`);
    const config = readFileSync(join(dir, "wrangler.jsonc"), "utf8");
    expect(config).toContain('"name": "my-tally"');
    expect(config).toContain("// A small project in the shape"); // comments kept
    expect(config).not.toContain("$schema");

    served = await serve(dir, ["--data", join(root, "data")]);
    const res = await fetch(`${served.url}/counter/a/increment`, { method: "POST" });
    expect(await res.json()).toEqual({ name: "a", value: 1 });
    // Ids derive from the new Worker name, so the copy shares nothing with its sample.
    const id = idFromName(namespaceKey("my-tally", "Counter"), "a");
    expect(existsSync(join(root, "data", "objects", "Counter", `${id}.sqlite`))).toBe(true);
  });

  it("creates the AIDevOS system with --sample, and refuses a non-empty folder or an unknown sample", async () => {
    const dir = join(root, "system");
    expect((await run(["new", dir, "--sample", "aidevos", "--name", "shop"])).code).toBe(0);
    expect(readFileSync(join(dir, "wrangler.jsonc"), "utf8")).toContain('"name": "shop"');
    expect(readFileSync(join(dir, "terrarium.json"), "utf8")).toContain('"eventBus"');

    const again = await run(["new", dir]);
    expect(again.code).toBe(1);
    expect(again.output).toContain("is not empty");
    const other = join(root, "other");
    mkdirSync(other);
    writeFileSync(join(other, "keep.txt"), "mine");
    expect((await run(["new", other])).output).toContain("is not empty");
    expect(readFileSync(join(other, "keep.txt"), "utf8")).toBe("mine");
    const bad = await run(["new", join(root, "x"), "--sample", "nope"]);
    expect(bad.code).toBe(1);
    expect(bad.output).toContain('no sample "nope"; pick one of aidevos, counter');
  });
});
