import { existsSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { run, servedPerTest } from "../helpers/cli.ts";
import type { RunSummary } from "../../runtime/load/summary.ts";

/**
 * wrangler dev's everyday flags on `terrarium serve` (and `load`), through
 * the real CLI: a package.json script written for wrangler dev runs here.
 */
const cli = servedPerTest();

/** The fixture's two Workers, as `-c` flags. */
function configs(dir: string): string[] {
  return ["-c", join(dir, "wrangler.jsonc"), "--config", join(dir, "back", "wrangler.jsonc")];
}

describe("terrarium serve with wrangler dev's flags", () => {
  it("runs every -c Worker, the first serving, with --var over vars and --persist-to as the data folder", async () => {
    const project = cli.project("workers");
    const served = await cli.serve(project.dir, [
      ...configs(project.dir),
      "--var",
      "FROM_CLI:a:b",
      "--var",
      "GREETING:overridden",
      "--persist-to",
      project.dataDir,
      "--local",
      "--ip",
      "127.0.0.1",
    ]);
    const r = await fetch(`${served.url}/`);
    expect(r.status).toBe(200);
    expect(await r.json()).toEqual({
      greeting: "overridden",
      secret: "dev-secret",
      cli: "a:b",
      back: "back",
      sum: 3,
    });
    expect(existsSync(join(project.dataDir, "registry.sqlite"))).toBe(true);
    expect(existsSync(join(project.dataDir, "workers", "back", "registry.sqlite"))).toBe(true);
    expect(await served.stop()).toBe(0);
  });

  it("a class of another -c Worker (script_name) keeps its objects in that Worker, across a restart", async () => {
    const project = cli.project("workers");
    const args = [...configs(project.dir), "--data", project.dataDir];
    let served = await cli.serve(project.dir, args);
    const count = async (): Promise<unknown> =>
      (await (await fetch(`${served.url}/count`)).json()) as unknown;
    expect(await count()).toEqual({ count: 1 });
    expect(await count()).toEqual({ count: 2 });
    expect(await served.stop()).toBe(0);
    served = await cli.serve(project.dir, args);
    expect(await count()).toEqual({ count: 3 });
    // The back Worker's registry knows the object; the front Worker's does not.
    expect(existsSync(join(project.dataDir, "workers", "back", "objects", "Counter"))).toBe(true);
    expect(existsSync(join(project.dataDir, "objects", "Counter"))).toBe(false);
  });

  it("a class of a Worker the project does not run fails each call, saying how to add it", async () => {
    const project = cli.project("workers");
    const served = await cli.serve(project.dir, ["--data", project.dataDir]);
    const r = await fetch(`${served.url}/count`);
    expect(r.status).toBe(502);
    expect(((await r.json()) as { error: string }).error).toBe(
      'Durable Object binding COUNTER: no Worker named "back" runs in this project (it runs "front"); add its config with another -c <wrangler config>.',
    );
  });

  it("--env runs each Worker's environment: its vars, .dev.vars.<env> and its own service bindings", async () => {
    const project = cli.project("workers");
    const served = await cli.serve(project.dir, [
      ...configs(project.dir),
      "--env",
      "staging",
      "--data",
      project.dataDir,
    ]);
    const r = await fetch(`${served.url}/`);
    expect(await r.json()).toEqual({
      greeting: "hello from staging",
      secret: "staging-secret",
      cli: null,
      back: "back in staging",
      sum: 3,
    });
  });

  it("a service binding to a Worker the project does not run fails each call, saying how to add it", async () => {
    const project = cli.project("workers");
    const served = await cli.serve(project.dir, ["--data", project.dataDir]);
    const r = await fetch(`${served.url}/`);
    expect(r.status).toBe(502);
    const body = (await r.json()) as { error: string };
    expect(body.error).toBe(
      'Service binding BACK: no Worker named "back" runs in this project (it runs "front"); add its config with another -c <wrangler config>.',
    );
  });

  // One CLI process per test: each start is bounded by its own test's time.
  it.each<[string[], number, RegExp]>([
    [["--var", "NOCOLON"], 2, /--var needs KEY:VALUE, got "NOCOLON"/],
    [["--env", "qa"], 1, /wrangler\.jsonc: env: no environment "qa" \(--env\): the config has "staging"/],
    [["--data", "a", "--persist-to", "b"], 2, /give --data or --persist-to/],
    [["-c", "nope.jsonc"], 1, /no such config file: .*nope\.jsonc \(-c\)/],
    [["--ip", "not-an-ip"], 2, /--ip needs an IP address/],
  ])("refuses %j with a clear message and starts nothing", async (args, code, message) => {
    const project = cli.project("workers");
    const flags = args[0] === "-c" ? ["-c", join(project.dir, args[1]!)] : args;
    const r = await run(["serve", project.dir, "--port", "0", ...flags]);
    expect(r.code, r.output).toBe(code);
    expect(r.output).toMatch(message);
    expect(r.output).not.toContain("Ready on");
  });
});

describe("terrarium load with wrangler dev's flags", () => {
  it("serves the -c Workers in --env and drives traffic through the service binding", async () => {
    const project = cli.project("workers");
    const r = await run([
      "load",
      ...configs(project.dir),
      "--env",
      "staging",
      "--data",
      project.dataDir,
      "--rate",
      "20",
      "--duration",
      "1s",
      "--json",
      "--quiet",
    ]);
    expect(r.code, r.output).toBe(0);
    const summary = JSON.parse(r.output.slice(r.output.indexOf("{"))) as RunSummary;
    expect(summary.requests).toEqual({ sent: 20, completed: 20, failed: 0, dropped: 0 });
    // Every answer came through the service binding, from the staging back Worker.
    expect(summary.statuses).toEqual({ "200": 20 });
  });
});
