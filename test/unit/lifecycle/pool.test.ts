import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { buildHostWorkers, bundleProject } from "../../../runtime/build/bundler.ts";
import { loadProject } from "../../../runtime/config/project.ts";
import { codeVersion } from "../../../runtime/engine/code.ts";
import type { GatewayApi } from "../../../runtime/host/protocol.ts";
import type { WorkerHost } from "../../../runtime/host/worker-host.ts";
import type { CodeVersion, LifecycleOptions, LiveObject } from "../../../runtime/lifecycle/live.ts";
import { WorkerPool, type PoolDeps } from "../../../runtime/lifecycle/pool.ts";
import { FakeClock, systemClock, type Clock } from "../../../runtime/shared/clock.ts";
import { ObjectError } from "../../../runtime/shared/errors.ts";
import type { LifecycleState } from "../../../runtime/shared/lifecycle-model.ts";
import { tempProject, until } from "../../helpers/project.ts";

// The worker pool on real worker threads, loaded with a real bundle (the
// load-failure fixture: its config decides whether the main module throws).
// What the Lifecycle Manager does around it (its live objects, and
// hibernating one to lend its worker) is played by the test through PoolDeps.

const project = tempProject("load-failure");

/** The fixture's code, bundled: `broken` makes its main module throw while it loads. */
async function bundled(broken: boolean): Promise<CodeVersion> {
  writeFileSync(join(project.dir, "src", "config.ts"), `export const broken = ${broken};\n`);
  const p = loadProject(project.dir, {});
  const out = join(project.dataDir, broken ? "build-broken" : "build");
  const [bundle, hosts] = await Promise.all([bundleProject(p.wrangler, out), buildHostWorkers()]);
  return codeVersion(p, bundle, hosts, project.dataDir);
}

let good: CodeVersion;
let broken: CodeVersion;

beforeAll(async () => {
  broken = await bundled(true);
  good = await bundled(false);
});
afterAll(() => project.cleanup());

/** A gateway that only notes what a worker called (nothing here needs an answer). */
function gateway(calls: string[]): GatewayApi {
  return new Proxy({} as GatewayApi, {
    get: (_target, name) => () => {
      calls.push(String(name));
    },
  });
}

interface Harness {
  pool: WorkerPool;
  live: Map<string, LiveObject>;
  /** Objects the pool asked to hibernate so it could take their workers. */
  lent: string[];
  errors: string[];
  setCode(code: CodeVersion): void;
  failure: Error | null;
}

const opened: WorkerPool[] = [];
afterEach(async () => {
  for (const pool of opened.splice(0)) {
    pool.close();
    await pool.stopAll();
  }
});

function harness(
  options: Partial<LifecycleOptions> = {},
  code: CodeVersion = good,
  clock: Clock = systemClock,
): Harness {
  const live = new Map<string, LiveObject>();
  const h: Harness = {
    pool: null as unknown as WorkerPool,
    live,
    lent: [],
    errors: [],
    failure: null,
    setCode: (next) => (current = next),
  };
  let current = code;
  const deps: PoolDeps = {
    clock,
    options: {
      poolSize: 0,
      maxLiveObjects: 100,
      memoryLimitMb: 128,
      policy: { idleAfterMs: 1_000, hibernateAfterMs: 10_000 },
      classPolicies: {},
      ...options,
    },
    live,
    sockets: { pinsObject: () => false },
    code: () => current,
    loadFailure: () => h.failure,
    failedToLoad: (_code, e) => (h.failure = new Error(`load failed: ${String(e)}`)),
    gateway: () => gateway([]),
    // As the manager's #hibernate: the object goes, its worker comes back free.
    lend: async (id) => {
      const l = live.get(id);
      if (!l?.host) return null;
      live.delete(id);
      h.lent.push(id);
      return l.host;
    },
    error: (message) => h.errors.push(message),
  };
  h.pool = new WorkerPool(deps);
  opened.push(h.pool);
  return h;
}

/** An object holding `host`, in `state`, last busy `agoMs` ago. */
function liveObject(id: string, host: WorkerHost | null, state: LifecycleState, agoMs: number): LiveObject {
  const at = systemClock.now() - agoMs;
  return {
    record: {
      id,
      className: "Room",
      name: id,
      state,
      createdAt: at,
      lastActive: at,
      requests: 0,
      storageBytes: 0,
      lastError: null,
    },
    host,
    starting: null,
    inFlight: 0,
    spanRequests: 0,
    lastEventAt: at,
    idleSince: at,
    generation: 0,
    busy: null,
    killedFor: null,
    updating: null,
    pendingScaling: null,
    directBusy: new Set(),
    streams: 0,
    heldStubs: 0,
  };
}

describe("the worker pool", () => {
  it("keeps poolSize workers started on the current code and hands one out without a thread start", async () => {
    const { pool } = harness({ poolSize: 2 });
    pool.refill();
    await until(() => pool.supplyNow().pooled === 2, "two pre-started workers");
    expect(pool.size).toBe(2);
    const host = await pool.acquire();
    expect(host.alive).toBe(true);
    expect(pool.slot(host)?.code).toBe(good);
    expect(pool.slot(host)?.object).toBeNull();
    // The one taken is replaced a moment later.
    await until(() => pool.supplyNow().pooled === 2, "the pool refilled");
    expect(pool.size).toBe(3);
  });

  it("starts a worker for a waiter when none is free, and takes back a free one for the next", async () => {
    const { pool } = harness();
    const first = await pool.acquire();
    expect(pool.size).toBe(1);
    pool.offer(first);
    expect(pool.supplyNow().pooled).toBe(1);
    expect(await pool.acquire()).toBe(first);
    expect(pool.size).toBe(1);
  });

  it("lends the worker of an object Idle for a while before it starts a thread", async () => {
    const h = harness();
    const idle = await h.pool.acquire();
    const recent = await h.pool.acquire();
    // Idle for 6 s: past half its 10 s hibernateAfterMs, as long as an object must have been Idle to lend.
    h.live.set("idle", liveObject("idle", idle, "Idle", 6_000));
    // Idle for 3 s only: still part of the working set, not a lender.
    h.live.set("recent", liveObject("recent", recent, "Idle", 3_000));
    const got = await h.pool.acquire();
    expect(got).toBe(idle);
    expect(h.lent).toEqual(["idle"]);
    expect(h.pool.size).toBe(2);
    // The next one gets a thread of its own: "recent" keeps its worker.
    const next = await h.pool.acquire();
    expect(next).not.toBe(recent);
    expect(h.lent).toEqual(["idle"]);
  });

  it("at the live cap, hands over the least recently used object's worker", async () => {
    const h = harness({ maxLiveObjects: 2 });
    const older = await h.pool.acquire();
    const newer = await h.pool.acquire();
    h.live.set("older", liveObject("older", older, "Active", 2_000));
    h.live.set("newer", liveObject("newer", newer, "Active", 1_000));
    // The object asking counts as live while it starts.
    const asking = liveObject("asking", null, "Initializing", 0);
    asking.starting = new Promise(() => {});
    h.live.set("asking", asking);
    expect(await h.pool.forObject()).toBe(older);
    expect(h.lent).toEqual(["older"]);
    expect(h.pool.size).toBe(2);
  });

  it("neither lends nor evicts at the cap an object whose RPC stubs are held elsewhere", async () => {
    const h = harness({ maxLiveObjects: 2 });
    const held = await h.pool.acquire();
    const other = await h.pool.acquire();
    // Idle long enough to lend, and the least recently used: but a stub to its RpcTarget is held.
    const pinned = liveObject("held", held, "Idle", 6_000);
    pinned.heldStubs = 1;
    h.live.set("held", pinned);
    h.live.set("other", liveObject("other", other, "Active", 1_000));
    const asking = liveObject("asking", null, "Initializing", 0);
    asking.starting = new Promise(() => {});
    h.live.set("asking", asking);
    expect(await h.pool.forObject()).toBe(other);
    expect(h.lent).toEqual(["other"]);
    h.live.delete("asking");
    // Under the cap now: a waiter gets a thread start, not the pinned object's worker.
    const next = await h.pool.acquire();
    expect(next).not.toBe(held);
    expect(h.lent).toEqual(["other"]);
  });

  it("under the cap, gives a new object a worker of its own", async () => {
    const h = harness({ maxLiveObjects: 2 });
    const other = await h.pool.acquire();
    h.live.set("other", liveObject("other", other, "Active", 1_000));
    const mine = await h.pool.forObject();
    expect(mine).not.toBe(other);
    expect(h.lent).toEqual([]);
  });

  it("reports a main module that throws while loading, ends its worker and starts no more", async () => {
    const h = harness({ poolSize: 2 }, broken);
    await expect(h.pool.spawnLoaded(broken.entryFile, "entry")).rejects.toThrow(
      /load failed: .*the config is broken at load time/,
    );
    await until(() => h.pool.size === 0, "the worker that failed to load to end");
    await expect(h.pool.acquire()).rejects.toBe(h.failure);
    h.pool.refill();
    expect(h.pool.size).toBe(0);
  });

  it("ends workers on old code: one offered back, and the pre-started ones when the code changes", async () => {
    const h = harness({ poolSize: 1 });
    h.pool.refill();
    await until(() => h.pool.supplyNow().pooled === 1, "a pre-started worker");
    const old = await h.pool.acquire();
    const next: CodeVersion = { ...good };
    h.setCode(next);
    h.pool.offer(old);
    await until(() => !old.alive, "the worker on old code to end");
    await until(() => h.pool.supplyNow().pooled === 1, "the pool refilled after the first was taken");
    h.pool.renew();
    await until(
      () => [...h.pool.slots()].every((s) => s.code === next) && h.pool.supplyNow().pooled === 1,
      "only workers on the new code",
    );
    expect(h.pool.slot(await h.pool.acquire())?.code).toBe(next);
  });

  it("grows above poolSize for the recent arrival rate, once arrivals pause", async () => {
    const clock = new FakeClock();
    const h = harness({ poolSize: 1 }, good, clock);
    // Eight objects need a worker at once: about 4 a second by the pool's
    // reckoning (pool-sizing.ts), a little less once 60 ms have passed.
    const hosts = await Promise.all(Array.from({ length: 8 }, () => h.pool.forObject()));
    expect(new Set(hosts).size).toBe(8);
    // While arrivals have not paused, only the floor (poolSize) is kept up.
    await until(() => h.pool.supplyNow().pooled === 1 && h.pool.supplyNow().starting === 0, "the floor");
    await clock.advance(60);
    await until(
      () => h.pool.supplyNow().pooled === 3 && h.pool.supplyNow().starting === 0,
      "the pool grown for 3 arrivals a second",
    );
    expect(h.pool.size).toBe(11);
    expect(h.errors).toEqual([]);
  });

  it("on close, fails the objects waiting with a 503 and ends every worker", async () => {
    const h = harness();
    const waiting = h.pool.acquire();
    expect(h.pool.supplyNow()).toMatchObject({ waiting: 1, starting: 1 });
    h.pool.close();
    await expect(waiting).rejects.toSatisfy((e) => e instanceof ObjectError && e.status === 503);
    await h.pool.stopAll();
    await until(() => h.pool.size === 0, "every worker to end");
    expect(h.errors).toEqual([]);
  });
});
