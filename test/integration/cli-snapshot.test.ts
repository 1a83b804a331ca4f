import { describe, expect, it } from "vitest";
import { run, servedPerTest, type Served } from "../helpers/cli.ts";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { openEngine } from "../helpers/project.ts";

const cli = servedPerTest("SIGTERM");

async function post(url: string): Promise<unknown> {
  const res = await fetch(url, { method: "POST" });
  return res.json();
}

describe("terrarium snapshot, restore and reset", () => {
  /** Serves the notes project, adds "hello" to ada's notes and snapshots ada with the CLI while it serves. */
  async function servedWithSnapshot(): Promise<{
    dir: string;
    data: string[];
    served: Served;
    snap: { id: string };
  }> {
    const project = cli.project("notes");
    const data = ["--data", project.dataDir];
    const served = await cli.serve(project.dir, ["--quiet", ...data]);
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
    return { dir: project.dir, data, served, snap };
  }

  it("snapshots and diffs while a server runs, and refuses restore and reset under it", async () => {
    const { dir, data, served: running, snap } = await servedWithSnapshot();

    await post(`${running.url}/notes/ada/add?text=world`);
    const diff = await run(["snapshot", dir, "--object", "ada", "--diff", snap.id, ...data]);
    expect(diff.code, diff.output).toBe(0);
    expect(diff.output).toContain("table notes: +1 added, ~0 changed, -0 removed (1 -> 2 rows)");
    expect(diff.output).toContain('+ {"id":2,"text":"world"}');
    expect(diff.output).toContain("~ count: 1 -> 2");

    const refused = await run(["restore", dir, "--snapshot", snap.id, ...data]);
    expect(refused.code).toBe(1);
    expect(refused.output).toMatch(/a Terrarium \(pid \d+\) is serving .*; restore would replace files/);
    const refusedReset = await run(["reset", dir, "--all", ...data]);
    expect(refusedReset.code).toBe(1);
    expect(refusedReset.output).toContain("reset would replace files");
  });

  it("restores a snapshot and resets a class once the server stopped", async () => {
    const { dir, data, served: running, snap } = await servedWithSnapshot();
    await post(`${running.url}/notes/ada/add?text=world`);
    expect(await running.stop()).toBe(0);
    const restored = await run(["restore", dir, "--snapshot", snap.id, ...data]);
    expect(restored.code, restored.output).toBe(0);
    expect(restored.output).toMatch(/^Restored Notes ada to /);
    const list = await run(["snapshot", dir, "--list", ...data]);
    expect(list.output).toMatch(/ restore .*"before restoring /);

    const served = await cli.serve(dir, ["--quiet", ...data]);
    expect(await (await fetch(`${served.url}/notes/ada/`)).json()).toMatchObject({
      notes: [{ id: 1, text: "hello" }],
      count: 1,
    });
    await served.stop();

    const reset = await run(["reset", dir, "--class", "Notes", ...data]);
    expect(reset.code, reset.output).toBe(0);
    expect(reset.output).toMatch(/^Reset 1 object: /);
  });

  it("lists a class's versions and rolls it back with terrarium versions and rollback", async () => {
    const project = cli.project("notes");
    const data = ["--data", project.dataDir];
    const file = join(project.dir, "src", "notes.ts");
    const engine = await openEngine(project.dir, project.dataDir);
    try {
      writeFileSync(file, readFileSync(file, "utf8").replace('"v1"', '"v2"'));
      expect((await engine.reload()).ok).toBe(true);
    } finally {
      await engine.close();
    }
    const listed = await run(["versions", project.dir, "--class", "Notes", "--json", ...data]);
    const versions = JSON.parse(listed.output) as { hash: string; cause: string }[];
    expect(versions.map((v) => v.cause)).toEqual(["start", "update"]);
    const rolled = await run([
      "rollback",
      project.dir,
      "--class",
      "Notes",
      "--version",
      versions[0]!.hash.slice(0, 8),
      ...data,
    ]);
    expect(rolled.code, rolled.output).toBe(0);
    expect(rolled.output).toContain(`Rolled Notes back to ${versions[0]!.hash.slice(0, 12)}`);
    expect(readFileSync(file, "utf8")).toContain('"v1"');
    const text = (await run(["versions", project.dir, "--class", "Notes", ...data])).output;
    expect(text.trim().split("\n").at(-1)).toMatch(/ rollback +src\/notes\.ts +\(current\)$/);
    const unknown = await run([
      "rollback",
      project.dir,
      "--class",
      "Notes",
      "--version",
      "abcdef12",
      ...data,
    ]);
    expect(unknown.code).toBe(1);
    expect(unknown.output).toContain("Notes has no version abcdef12");
  });

  it("names what is wrong with its arguments", async () => {
    const project = cli.project("notes");
    const data = ["--data", project.dataDir];
    expect((await run(["reset", project.dir, ...data])).output).toContain("terrarium reset: takes one of");
    const none = await run(["snapshot", project.dir, "--object", "ada", ...data]);
    expect(none.code).toBe(1);
    expect(none.output).toContain("no Terrarium data in");
    const bad = await run(["restore", project.dir, "--snapshot", "nope", ...data]);
    expect(bad.code).toBe(1);
    expect(bad.output).toContain("no snapshot nope");
  });
});
