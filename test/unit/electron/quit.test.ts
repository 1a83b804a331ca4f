import { EventEmitter } from "node:events";
import { afterEach, describe, expect, it } from "vitest";
import { cutShortLine, type Engine } from "../../../runtime/engine.ts";
import { stopBeforeQuit, type QuittingApp } from "../../../electron/quit.ts";
import { openEngine, until } from "../../helpers/project.ts";
import { marked, stuckProject } from "../../helpers/stuck-project.ts";

// Electron's `app` is a stand-in (no Electron binary on these machines); the
// engine it stops is real, with an object spinning in a worker thread.

class FakeApp extends EventEmitter implements QuittingApp {
  quits = 0;
  exits: number[] = [];
  /** Emits before-quit as Electron does; true when a listener held the quit. */
  requestQuit(): boolean {
    let held = false;
    this.emit("before-quit", { preventDefault: () => (held = true) });
    return held;
  }
  quit(): void {
    this.quits++;
    this.requestQuit();
  }
  exit(code = 0): void {
    this.exits.push(code);
  }
}

let project: ReturnType<typeof stuckProject> | null = null;
let engine: Engine | null = null;

afterEach(async () => {
  await engine?.close({ graceMs: 0 });
  engine = null;
  project?.cleanup();
  project = null;
});

async function spinningEngine(): Promise<Engine> {
  project = stuckProject();
  engine = await openEngine(project.dir, project.dataDir);
  await engine.listen(0);
  void fetch(`${engine.url}/store/s/spin`).catch(() => {});
  await until(() => marked(project!.dataDir, "Store", "spinning"), "the Store object to spin");
  return engine;
}

describe("quitting the desktop app", () => {
  it("holds the quit while the engine stops, bounded by the grace period, and logs what was cut short", async () => {
    const e = await spinningEngine();
    const app = new FakeApp();
    const logged: string[] = [];
    stopBeforeQuit(app, async () => cutShortLine(await e.close({ graceMs: 500 })), {
      graceMs: 500,
      log: (l) => logged.push(l),
    });
    const t0 = performance.now();
    expect(app.requestQuit()).toBe(true);
    await until(() => app.quits === 1, "the app to quit once");
    console.log(
      `[measured] app quit with a spinning object, 500 ms grace: ${Math.round(performance.now() - t0)} ms`,
    );
    expect(app.exits).toEqual([]);
    expect(logged).toEqual([
      'terrarium: stopped after the 500 ms grace period, cutting short 1 request and 1 object: Store "s" (1 event)',
    ]);
    // The quit that follows the stop goes ahead.
    expect(app.requestQuit()).toBe(false);
    expect(e.lifecycle.workerCount()).toBe(0);
  }, 60_000);

  it("exits at once when quit is asked for again while stopping", async () => {
    const e = await spinningEngine();
    const app = new FakeApp();
    const logged: string[] = [];
    stopBeforeQuit(app, async () => cutShortLine(await e.close({ graceMs: 2_000 })), {
      graceMs: 2_000,
      log: (l) => logged.push(l),
    });
    expect(app.requestQuit()).toBe(true);
    expect(app.requestQuit()).toBe(true);
    // The stop is still under way (its grace period is not over), and the app exited.
    expect(app.quits).toBe(0);
    expect(app.exits).toEqual([0]);
    expect(logged).toEqual(["terrarium: quit again, exiting now"]);
  }, 60_000);

  it("lets the quit go ahead when no project is open", () => {
    const app = new FakeApp();
    stopBeforeQuit(app, () => null, { graceMs: 5_000 });
    expect(app.requestQuit()).toBe(false);
    expect(app.quits).toBe(0);
  });
});
