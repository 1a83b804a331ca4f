import { describe, expect, it } from "vitest";
import { servedPerTest } from "../helpers/cli.ts";
import { until } from "../helpers/project.ts";

const cli = servedPerTest();

async function seen(url: string): Promise<{ queue: string; name: string; attempts: number }[]> {
  return (await (await fetch(`${url}/seen`)).json()) as { queue: string; name: string; attempts: number }[];
}

describe("terrarium serve with Queues", () => {
  it("delivers, after a restart, a message sent before it and its consumer's logs say so", async () => {
    const project = cli.project("queues");
    let served = await cli.serve(project.dir, ["--data", project.dataDir]);
    const sent = await fetch(`${served.url}/send?delay=3`, { method: "POST", body: '{"name":"across"}' });
    expect(await sent.json()).toEqual({ sent: "across" });
    expect(await served.stop("SIGTERM")).toBe(0);
    served = await cli.serve(project.dir, ["--data", project.dataDir]);
    const url = served.url;
    await until(async () => (await seen(url)).length === 1, "the message sent before the restart");
    expect(await seen(url)).toEqual([{ queue: "jobs", name: "across", attempts: 1 }]);
    await until(() => /\[queues\] QUEUE jobs 1\/1 \(\d+ms\)/.test(served.output()), "the batch's log line");
  });
});
