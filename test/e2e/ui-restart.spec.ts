import { expect, test } from "@playwright/test";
import { startCli } from "../helpers/cli.ts";
import { descendants, running } from "../helpers/processes.ts";
import { tempProject, until } from "../helpers/project.ts";
import { AppPage } from "./pages/app-page.ts";

// `terrarium ui` under its supervisor (docs/reliability.md, "Isolation"): an
// object whose allocation aborts the engine's process costs a restart, on
// the same ports and with the same token, and the open page reconnects on
// its own.

test("terrarium ui restarts its engine after an object aborts it, and the open page reconnects", async ({
  page,
}) => {
  const project = tempProject("faults");
  const ui = await startCli(
    ["ui", project.dir, "--port", "0", "--router-port", "0", "--data", project.dataDir, "--quiet"],
    { ready: /UI on (http:\/\/127\.0\.0\.1:\d+\/\?token=[0-9a-f]+)/ },
  );
  try {
    const router = /Router on (http:\/\/127\.0\.0\.1:\d+)/.exec(ui.stdout())![1]!;
    const app = new AppPage(page);
    await app.open(ui.url);
    const host = page.locator(".app-host");
    await expect(host).toHaveClass(/conn-open/);

    const culprit = await fetch(`${router}/hog-big/b`).then(
      (r) => `answered ${r.status}`,
      () => "no answer",
    );
    expect(culprit).toBe("no answer");
    await until(() => /serving again/.test(ui.stderr()), "the engine to serve again", 120_000);
    expect(ui.stderr()).toMatch(/Durable Object Bad "hog-big-b" \([0-9a-f]{8}\) ran out of memory/);
    // The same addresses, the same token: printed again as they were.
    expect(ui.stdout().match(/UI on \S+/g)).toEqual([`UI on ${ui.url}`, `UI on ${ui.url}`]);

    // The page reconnected by itself and drives the new engine.
    await expect(host).toHaveClass(/conn-open/, { timeout: 60_000 });
    await app.show("Inspector");
    await expect(page.getByText("hog-big-b").first()).toBeVisible({ timeout: 30_000 });
    await page.screenshot({ path: "test-results/e2e/ui-restart.png" });
    const good = await fetch(`${router}/good/g`);
    expect(good.status).toBe(200);

    const family = [ui.child.pid!, ...descendants(ui.child.pid!)];
    ui.child.kill("SIGTERM");
    expect((await ui.exited).code).toBe(0);
    await until(() => family.every((p) => !running(p)), "the supervisor and the engine process to end");
  } finally {
    if (ui.child.exitCode === null) ui.child.kill("SIGKILL");
    project.cleanup();
  }
});
