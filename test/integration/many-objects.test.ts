import { afterEach, describe, expect, it } from "vitest";
import { serve, STOP_HOOK_TIMEOUT_MS, type Served } from "../helpers/cli.ts";
import { tempProject } from "../helpers/project.ts";

let served: Served | null = null;
let project: ReturnType<typeof tempProject> | null = null;

afterEach(async () => {
  await served?.stop();
  project?.cleanup();
}, STOP_HOOK_TIMEOUT_MS);

describe("many objects", () => {
  it("serves a load that touches 10,000 distinct objects with no error, under the live cap", async () => {
    project = tempProject("kitchen");
    served = await serve(project.dir, ["--data", project.dataDir, "--max-live", "200", "--quiet"]);
    const N = 10_000;
    let next = 0;
    const failures: string[] = [];
    const { Agent, request } = await import("node:http");
    const agent = new Agent({ keepAlive: true, maxSockets: 50 });
    const url = new URL(served.url);
    const post = (path: string) =>
      new Promise<number>((resolve, reject) => {
        const req = request({ agent, host: url.hostname, port: url.port, method: "POST", path }, (res) => {
          res.resume();
          res.on("end", () => resolve(res.statusCode ?? 0));
        });
        req.on("error", reject);
        req.end();
      });
    await Promise.all(
      Array.from({ length: 50 }, async () => {
        while (next < N) {
          const i = next++;
          const status = await post(`/direct/o${i}`);
          if (status !== 200) failures.push(`o${i}: ${status}`);
        }
      }),
    );
    agent.destroy();
    expect(failures).toEqual([]);
  }, 600_000);
});
