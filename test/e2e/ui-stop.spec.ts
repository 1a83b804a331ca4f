import { expect, test } from "@playwright/test";
import { startCli } from "../helpers/cli.ts";
import { descendants, running } from "../helpers/processes.ts";
import { until } from "../helpers/project.ts";
import { marked, stuckProject } from "../helpers/stuck-project.ts";
import { AppPage } from "./pages/app-page.ts";

// `terrarium ui` stops as `serve` does (issue 20), with a browser connected
// to its bridge: a spinning object is ended when --grace is up.

const MARGIN_MS = 10_000;

test("terrarium ui stops within --grace with a spinning object and a page connected", async ({ page }) => {
  const project = stuckProject();
  const ui = await startCli(
    [
      "ui",
      project.dir,
      "--port",
      "0",
      "--router-port",
      "0",
      "--data",
      project.dataDir,
      "--quiet",
      "--grace",
      "1500",
    ],
    { ready: /UI on (http:\/\/127\.0\.0\.1:\d+\/\?token=[0-9a-f]+)/ },
  );
  try {
    const router = /Router on (http:\/\/127\.0\.0\.1:\d+)/.exec(ui.stdout())![1]!;
    await new AppPage(page).open(ui.url);
    const write = await fetch(`${router}/store/u/write?v=kept`, { method: "POST" });
    expect(write.status).toBe(200);
    void fetch(`${router}/store/u/spin`).catch(() => {});
    await until(() => marked(project.dataDir, "Store", "spinning"), "the Store object to spin");
    const family = descendants(ui.child.pid!);

    const t0 = performance.now();
    ui.child.kill("SIGTERM");
    const exit = await ui.exited;
    console.log(
      `[measured] terrarium ui, spinning object, --grace 1500: exit after ${Math.round(exit.at - t0)} ms`,
    );
    expect(exit.code).toBe(0);
    expect(exit.at - t0).toBeLessThan(1_500 + MARGIN_MS);
    expect(ui.stderr()).toBe(
      'terrarium: stopped after the 1500 ms grace period, cutting short 1 request and 1 object: Store "u" (1 event)\n',
    );
    await until(() => family.every((p) => !running(p)), "every process of the family to end");

    // The answered write is there for the next run.
    const again = await startCli(["serve", project.dir, "--port", "0", "--data", project.dataDir, "--quiet"]);
    try {
      const r = await fetch(`${again.url}/store/u/read`);
      expect(await r.json()).toEqual({ rows: ["kept"], kv: "kept" });
    } finally {
      again.child.kill("SIGTERM");
      expect((await again.exited).code).toBe(0);
    }
  } finally {
    if (ui.child.exitCode === null) ui.child.kill("SIGKILL");
    project.cleanup();
  }
});
