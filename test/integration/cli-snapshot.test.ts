import { afterEach, describe, expect, it } from "vitest";
import { run, serve, type Served } from "../helpers/cli.ts";
import { tempProject } from "../helpers/project.ts";

let project: ReturnType<typeof tempProject> | null = null;
let served: Served | null = null;

afterEach(async () => {
  await served?.stop();
  served = null;
  project?.cleanup();
  project = null;
});

async function post(url: string): Promise<unknown> {
  const res = await fetch(url, { method: "POST" });
  return res.json();
}

describe("terrarium snapshot, restore and reset", () => {
  it("snapshots and diffs while a server runs, refuses restore and reset under it, and does them once it stopped", async () => {
    project = tempProject("notes");
    const data = ["--data", project.dataDir];
    served = await serve(project.dir, ["--quiet", ...data]);
    await post(`${served.url}/notes/ada/add?text=hello`);

    const taken = await run([
      "snapshot",
      project.dir,
      "--object",
      "ada",
      "--label",
      "first",
      "--json",
      ...data,
    ]);
    expect(taken.code, taken.output).toBe(0);
    const snap = JSON.parse(taken.output) as { id: string; reason: string; label: string };
    expect(snap).toMatchObject({ reason: "manual", label: "first" });

    await post(`${served.url}/notes/ada/add?text=world`);
    const diff = await run(["snapshot", project.dir, "--object", "ada", "--diff", snap.id, ...data]);
    expect(diff.code, diff.output).toBe(0);
    expect(diff.output).toContain("table notes: +1 added, ~0 changed, -0 removed (1 -> 2 rows)");
    expect(diff.output).toContain('+ {"id":2,"text":"world"}');
    expect(diff.output).toContain("~ count: 1 -> 2");

    const refused = await run(["restore", project.dir, "--snapshot", snap.id, ...data]);
    expect(refused.code).toBe(1);
    expect(refused.output).toMatch(/a Terrarium \(pid \d+\) is serving .*; restore would replace files/);
    const refusedReset = await run(["reset", project.dir, "--all", ...data]);
    expect(refusedReset.code).toBe(1);
    expect(refusedReset.output).toContain("reset would replace files");

    expect(await served.stop()).toBe(0);
    served = null;
    const restored = await run(["restore", project.dir, "--snapshot", snap.id, ...data]);
    expect(restored.code, restored.output).toBe(0);
    expect(restored.output).toMatch(/^Restored Notes ada to /);
    const list = await run(["snapshot", project.dir, "--list", ...data]);
    expect(list.output).toMatch(/ restore .*"before restoring /);

    served = await serve(project.dir, ["--quiet", ...data]);
    expect(await (await fetch(`${served.url}/notes/ada/`)).json()).toMatchObject({
      notes: [{ id: 1, text: "hello" }],
      count: 1,
    });
    await served.stop();
    served = null;

    const reset = await run(["reset", project.dir, "--class", "Notes", ...data]);
    expect(reset.code, reset.output).toBe(0);
    expect(reset.output).toMatch(/^Reset 1 object: /);
  });

  it("names what is wrong with its arguments", async () => {
    project = tempProject("notes");
    const data = ["--data", project.dataDir];
    expect((await run(["reset", project.dir, ...data])).output).toContain("reset takes one of");
    const none = await run(["snapshot", project.dir, "--object", "ada", ...data]);
    expect(none.code).toBe(1);
    expect(none.output).toContain("no Terrarium data in");
    const bad = await run(["restore", project.dir, "--snapshot", "nope", ...data]);
    expect(bad.code).toBe(1);
    expect(bad.output).toContain("no snapshot nope");
  });
});
