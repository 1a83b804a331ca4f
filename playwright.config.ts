import { defineConfig } from "@playwright/test";

// Browser tests of the web twin (`terrarium ui`) in Debian's chromium; never
// `npx playwright install` (it downloads a browser, which fails here). Each
// test starts its own `terrarium ui` on a temporary project (test/e2e/fixtures.ts).
export default defineConfig({
  testDir: "test/e2e",
  // NOTE: not test-results/ itself: Playwright empties its output folder,
  // and vitest's report lives there.
  outputDir: "test-results/e2e",
  timeout: 90_000,
  expect: { timeout: 15_000 },
  fullyParallel: true,
  // Two cores, shared: one engine and one browser at a time is fast enough.
  workers: 1,
  retries: 0,
  reporter: [["list"], ["json", { outputFile: "test-results/playwright.json" }]],
  use: {
    browserName: "chromium",
    viewport: { width: 1360, height: 860 },
    screenshot: "only-on-failure",
    trace: "retain-on-failure",
    launchOptions: {
      executablePath: process.env["CHROMIUM_PATH"] ?? "/usr/bin/chromium",
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
      ],
    },
  },
});
