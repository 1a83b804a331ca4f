import { cpSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { RunSummary } from "../../runtime/load/summary.ts";
import { RunStore } from "../../runtime/load/runs.ts";
import { Engine } from "../../runtime/engine.ts";
import { run, serve, type Served } from "../helpers/cli.ts";
import { until } from "../helpers/project.ts";
import { controlApi } from "../../runtime/api/control-api.ts";

const COUNTER = resolve(import.meta.dirname, "..", "..", "resources", "samples", "counter");

let root: string | null = null;
let served: Served | null = null;

function tempDir(): string {
  root = mkdtempSync(join(tmpdir(), "terrarium-load-"));
  return root;
}

afterEach(async () => {
  await served?.stop("SIGKILL");
  served = null;
  if (root) rmSync(root, { recursive: true, force: true });
  root = null;
});

describe("terrarium load", () => {
  it("drives the counter sample and prints a sane JSON summary", async () => {
    const data = join(tempDir(), "data");
    const r = await run([
      "load",
      COUNTER,
      "--rate",
      "100",
      "--duration",
      "2s",
      "--method",
      "POST",
      "--path",
      "/counter/{key}/increment",
      "--keys",
      "uniform:4",
      "--threshold",
      "errors<1%",
      "--json",
      "--quiet",
      "--data",
      data,
    ]);
    expect(r.code, r.output).toBe(0);
    const s = JSON.parse(r.output.slice(r.output.indexOf("{"))) as RunSummary;
    expect(s.requests).toEqual({ sent: 200, completed: 200, failed: 0, dropped: 0 });
    expect(s.errors).toEqual({});
    expect(s.statuses).toEqual({ "200": 200 });
    expect(s.throughput.completed).toBeGreaterThan(40);
    expect(s.throughput.completed).toBeLessThanOrEqual(105);
    const l = s.latencyMs;
    expect(l.min).toBeGreaterThan(0);
    expect(l.p50).toBeLessThanOrEqual(l.p90);
    expect(l.p90).toBeLessThanOrEqual(l.p99);
    expect(l.p99).toBeLessThanOrEqual(l["p99.9"]);
    expect(l["p99.9"]).toBeLessThanOrEqual(l.max);
    expect(s.thresholds).toEqual([{ threshold: "errors<1%", actual: 0, ok: true }]);
    // The engine ran here, so the summary sees inside it: one RPC per request, on four counters.
    const hot = s.objects!.hottest;
    expect(hot.map((h) => h.name).sort()).toEqual(["0", "1", "2", "3"]);
    expect(hot.reduce((n, h) => n + h.requests, 0)).toBe(200);
    expect(s.generator.cpuCores).toBeGreaterThan(0);
    const runs = new RunStore(data).list();
    expect(runs.map((x) => x.id)).toEqual([s.runId]);
    const saved = new RunStore(data).get(s.runId)!;
    expect(saved.series.length).toBeGreaterThanOrEqual(2);
    expect(saved.series.reduce((n, x) => n + x.completed, 0)).toBe(200);
    expect(saved.series[0]!.engine).not.toBeNull();
  });

  it("runs a profile from terrarium.json against --url and exits 99 when a threshold fails", async () => {
    const dir = join(tempDir(), "project");
    cpSync(COUNTER, dir, { recursive: true, filter: (p) => !p.includes(".terrarium") });
    writeFileSync(
      join(dir, "terrarium.json"),
      JSON.stringify({
        loadProfiles: {
          strict: {
            clients: 2,
            thinkTime: "10ms",
            duration: "1s",
            keys: "zipf:3",
            requests: [{ path: "/counter/{key}" }],
            thresholds: ["p99<0.001", "errors<1%"],
          },
        },
      }),
    );
    served = await serve(dir, ["--data", join(root!, "served"), "--quiet"]);
    const data = join(root!, "runs-here");
    const r = await run(["load", dir, "--profile", "strict", "--url", served.url, "--quiet", "--data", data]);
    expect(r.code, r.output).toBe(99);
    expect(r.output).toMatch(/✗ p99<0\.001/);
    expect(r.output).toMatch(/✓ errors<1%/);
    expect(r.output).toMatch(/closed model, 2 clients/);
    expect(readdirSync(join(data, "runs")).filter((f) => f.endsWith(".info.json"))).toHaveLength(1);

    const missing = await run(["load", dir, "--profile", "nope", "--url", served.url]);
    expect(missing.code).toBe(1);
    expect(missing.output).toContain('no load profile "nope" in terrarium.json (there is strict)');
    const mixed = await run(["load", dir, "--profile", "strict", "--rate", "5"]);
    expect(mixed.code).toBe(2);
    const bad = await run(["load", dir, "--rate", "5", "--keys", "zipf:x", "--path", "/{key}"]);
    expect(bad.code).toBe(2);
    expect(bad.output).toContain('keys: "zipf:x": K must be a whole number');
  });

  it("starts, watches and lists runs through the control API", async () => {
    const base = tempDir();
    const engine = await Engine.open({
      projectDir: COUNTER,
      dataDir: join(base, "data"),
      lifecycle: { poolSize: 1 },
    });
    try {
      await engine.listen(0);
      await expect(controlApi(engine).getRun("../../etc/passwd")).rejects.toThrow(/run id/);
      const { id } = await controlApi(engine).startLoad({
        config: {
          rate: 30,
          duration: "1500ms",
          keys: "uniform:3",
          requests: [{ method: "POST", path: "/counter/n{key}/increment" }],
        },
      });
      await expect(controlApi(engine).startLoad({ profile: "x" })).rejects.toThrow(/a load run is going/);
      await until(
        async () => ((await controlApi(engine).loadStatus()).active?.series.length ?? 0) > 0,
        "the first load sample",
      );
      await until(
        async () => (await controlApi(engine).loadStatus()).active === null,
        "the load run to finish",
      );
      expect((await controlApi(engine).loadStatus()).lastError).toBeNull();
      const runs = await controlApi(engine).listRuns();
      expect(runs.map((r) => r.id)).toEqual([id]);
      expect(runs[0]).toMatchObject({ profile: "console", sent: 45, completed: 45, errorRate: 0 });
      const saved = (await controlApi(engine).getRun(id))!;
      expect(saved.series.reduce((n, x) => n + x.completed, 0)).toBe(45);
      const hot = saved.summary.objects!.hottest;
      expect(hot.map((o) => o.name).sort()).toEqual(["n0", "n1", "n2"]);
      expect(hot.reduce((n, o) => n + o.requests, 0)).toBe(45);
    } finally {
      await engine.close();
    }
  });
});
