import { configDefaults, defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: [
      "test/unit/**/*.test.ts",
      "test/integration/**/*.test.ts",
      "test/fidelity/**/*.test.ts",
      "test/real-world/**/*.test.ts",
      "test/reliability/**/*.test.ts",
    ],
    // test/e2e is Playwright's (browser tests on the built app); the fidelity
    // projects are Cloudflare projects under test, not test code.
    exclude: [
      ...configDefaults.exclude,
      "test/e2e/**",
      "test/fidelity/projects/**",
      "test/real-world/projects/**",
    ],
    // NOTE: forks, not threads: the engine itself runs worker_threads and loads
    // native modules (better-sqlite3), which are safer isolated per process.
    pool: "forks",
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // The JSON report gives .ci/run its closing "N passed, N failed" line.
    reporters: ["default", ["json", { outputFile: "test-results/vitest.json" }]],
  },
});
