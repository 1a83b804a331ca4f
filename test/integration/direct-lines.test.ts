import { describe, expect, it } from "vitest";
import { enginesPerTest, request, until } from "../helpers/project.ts";
import { controlApi } from "../../runtime/api/control-api.ts";

const engines = enginesPerTest();

describe("calls between workers", () => {
  it("loses and duplicates nothing while objects hibernate, move and are evicted under load", async () => {
    // Aggressive timeouts and a small cap: objects come and go constantly,
    // so calls race with hibernation, eviction and worker reuse.
    const { engine } = await engines.open("kitchen", {
      lifecycle: { policy: { idleAfterMs: 20, hibernateAfterMs: 40 }, maxLiveObjects: 4 },
    });
    const names = Array.from({ length: 8 }, (_, i) => `n${i}`);
    const sent = new Map<string, number>();
    const failures: string[] = [];
    const deadline = Date.now() + 4_000;
    await Promise.all(
      Array.from({ length: 16 }, async (_, c) => {
        let i = c;
        // Four seconds at least, and until some calls went on direct lines
        // (on a busy machine objects spend longer starting, off the lines).
        while (Date.now() < deadline || engine.lifecycle.directCalls === 0) {
          const name = names[i++ % names.length]!;
          const r = await request(engine, "POST", `/count/${name}/slow-incr`);
          if (r.status === 200) sent.set(name, (sent.get(name) ?? 0) + 1);
          else failures.push(`${name}: ${r.status} ${r.body}`);
          if (i % 7 === 0) await new Promise((r) => setTimeout(r, 30 + (i % 3) * 20));
        }
      }),
    );
    expect(failures).toEqual([]);
    // Some calls went on direct lines while those lines were being torn down.
    // Workers report their direct calls a few milliseconds after the fact
    // (coalesced), so on a busy machine the last reports may still be coming.
    await until(() => engine.lifecycle.directCalls > 0, "the callers to report their direct calls");
    for (const name of names) {
      const stored = ((await request(engine, "GET", `/read/${name}`)).json as { stored: number }).stored;
      expect(stored, name).toBe(sent.get(name) ?? 0);
    }
  }, 60_000);

  it("serves a hot object on a direct line and keeps its records and lifecycle", async () => {
    const { engine } = await engines.open("kitchen");
    // Steady load: 20 clients, 20 requests each.
    const results = (
      await Promise.all(
        Array.from({ length: 20 }, async () => {
          const out = [];
          for (let i = 0; i < 20; i++) out.push(await request(engine, "POST", "/count/hot/slow-incr"));
          return out;
        }),
      )
    ).flat();
    expect(results.every((r) => r.status === 200)).toBe(true);
    // Workers report their direct calls a few milliseconds after the fact (coalesced).
    await until(() => engine.lifecycle.directCalls > 300, "the callers to report their direct calls");
    expect((await request(engine, "GET", "/read/hot")).json).toEqual({ stored: 400, memory: 0 });
    // Its Processing span ends once nothing has been in flight for a moment.
    const hot = async () =>
      (await controlApi(engine).listObjects({ search: "hot" })).objects.find((o) => o.name === "hot")!;
    await until(async () => (await hot()).state !== "Processing", "the object's Processing span to end");
    const obj = await hot();
    expect(obj.requests).toBeGreaterThanOrEqual(401);
    expect(["Active", "Idle"]).toContain(obj.state);
  }, 60_000);

  it("ends an object that spins on a call that came on a direct line", async () => {
    const { engine } = await engines.open("kitchen", { lifecycle: { cpuLimitMs: 300 } });
    // The entry Worker calls the object often enough to get a direct line to it.
    for (let i = 0; i < 6 && engine.lifecycle.directCalls === 0; i++) {
      expect((await request(engine, "GET", "/read/spin-d")).status).toBe(200);
      await new Promise((r) => setTimeout(r, 50));
    }
    await until(() => engine.lifecycle.directCalls > 0, "a direct line to the object");
    // Its caller reports the call in flight, so the watchdog sees the object busy.
    const spin = await request(engine, "GET", "/spin/d");
    expect(spin.status).toBe(500);
    expect(spin.body).toMatch(/CPU time limit/);
    expect((await request(engine, "POST", "/count/alive")).status).toBe(200);
  }, 30_000);
});
