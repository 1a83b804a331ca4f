import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { Engine } from "../../runtime/engine.ts";
import { idFromName, namespaceKey } from "../../runtime/shared/ids.ts";
import { serve, type Served } from "../helpers/cli.ts";
import { openEngine, request, tempProject } from "../helpers/project.ts";

/**
 * A main module that throws while it loads (a top-level throw, an import
 * that fails at run time) fails the Worker and its objects with that error,
 * never the process; the first code change that loads serves again.
 */

let project: ReturnType<typeof tempProject> | null = null;
let engine: Engine | null = null;
let served: Served | null = null;

afterEach(async () => {
  await engine?.close();
  engine = null;
  await served?.stop("SIGKILL");
  served = null;
  project?.cleanup();
  project = null;
});

const LOAD_ERROR = "the Worker's main module threw while loading: Error: the config is broken at load time";

function setBroken(dir: string, broken: boolean): void {
  writeFileSync(join(dir, "src", "config.ts"), `export const broken = ${broken};\n`);
}

describe("a main module that throws while loading", () => {
  it("opens anyway; the entry and every object answer 500 with the error, logged and in lastError", async () => {
    project = tempProject("load-failure");
    engine = await openEngine(project.dir, project.dataDir);
    expect(engine.lifecycle.loadFailure).toBe(LOAD_ERROR);

    const entry = await request(engine, "GET", "/");
    expect(entry.status).toBe(500);
    expect(entry.body).toContain(LOAD_ERROR);

    const room = await request(engine, "GET", "/room/lobby");
    expect(room.status).toBe(500);
    expect(room.body).toContain(LOAD_ERROR);
    const id = idFromName(namespaceKey("load-failure", "Room"), "lobby");
    expect(engine.registry.get(id)?.lastError).toContain(LOAD_ERROR);
    expect(engine.registry.logs(id).map((l) => l.message)).toEqual([`could not start: ${LOAD_ERROR}`]);
    expect(
      engine.registry.logs(null).some((l) => l.level === "error" && l.message.startsWith(LOAD_ERROR)),
    ).toBe(true);
  });

  it("reports the failure on a reload that changes nothing", async () => {
    project = tempProject("load-failure");
    engine = await openEngine(project.dir, project.dataDir);
    expect(await engine.reload()).toMatchObject({ ok: false, error: LOAD_ERROR });
  });

  it("serves the next request after the code is fixed, objects included", async () => {
    project = tempProject("load-failure");
    engine = await openEngine(project.dir, project.dataDir);
    expect((await request(engine, "GET", "/room/lobby")).status).toBe(500);

    setBroken(project.dir, false);
    const reload = await engine.reload();
    expect(reload).toMatchObject({ ok: true, error: null });
    expect(engine.lifecycle.loadFailure).toBeNull();
    expect(await request(engine, "GET", "/")).toMatchObject({ status: 200, json: { entry: "ok" } });
    expect(await request(engine, "GET", "/room/lobby")).toMatchObject({ status: 200, json: { room: "ok" } });
    const id = idFromName(namespaceKey("load-failure", "Room"), "lobby");
    expect(engine.registry.get(id)).toMatchObject({ state: "Processing", lastError: null });
  });

  it("shows the newest error while the code keeps failing to load", async () => {
    project = tempProject("load-failure");
    engine = await openEngine(project.dir, project.dataDir);
    writeFileSync(join(project.dir, "src", "config.ts"), `throw new TypeError("still broken");\n`);
    const reload = await engine.reload();
    expect(reload).toMatchObject({
      ok: false,
      error: "the new code failed to load: TypeError: still broken",
    });
    const entry = await request(engine, "GET", "/");
    expect(entry.status).toBe(500);
    expect(entry.body).toContain("the Worker's main module threw while loading: TypeError: still broken");
  });

  it("keeps serving the previous code when a change makes a working module throw", async () => {
    project = tempProject("load-failure");
    setBroken(project.dir, false);
    engine = await openEngine(project.dir, project.dataDir);
    expect((await request(engine, "GET", "/room/lobby")).status).toBe(200);
    setBroken(project.dir, true);
    expect(await engine.reload()).toMatchObject({
      ok: false,
      error: "the new code failed to load: Error: the config is broken at load time",
    });
    expect(engine.lifecycle.loadFailure).toBeNull();
    expect(await request(engine, "GET", "/")).toMatchObject({ status: 200, json: { entry: "ok" } });
    expect(await request(engine, "GET", "/room/lobby")).toMatchObject({ status: 200, json: { room: "ok" } });
  });

  it("treats an import that fails at run time the same way", async () => {
    project = tempProject("load-failure");
    setBroken(project.dir, false);
    // With nodejs_compat node: imports stay imports, resolved when the module loads.
    writeFileSync(
      join(project.dir, "wrangler.jsonc"),
      JSON.stringify({
        name: "load-failure",
        main: "src/index.ts",
        compatibility_date: "2025-04-01",
        compatibility_flags: ["nodejs_compat"],
        durable_objects: { bindings: [{ name: "ROOM", class_name: "Room" }] },
      }),
    );
    writeFileSync(join(project.dir, "src", "config.ts"), `export { broken } from "node:no-such-module";\n`);
    engine = await openEngine(project.dir, project.dataDir);
    const entry = await request(engine, "GET", "/");
    expect(entry.status).toBe(500);
    expect(entry.body).toContain("the Worker's main module threw while loading:");
    expect(entry.body).toContain("node:no-such-module");
  });
});

describe("terrarium serve with a main module that throws while loading", () => {
  it("stays up, answers 500 with the error, and serves once the file is fixed", async () => {
    project = tempProject("load-failure");
    served = await serve(project.dir, ["--data", project.dataDir]);
    const failed = await fetch(`${served.url}/`);
    expect(failed.status).toBe(500);
    expect(await failed.text()).toContain(LOAD_ERROR);
    expect((await fetch(`${served.url}/room/lobby`)).status).toBe(500);
    expect(served.output()).toContain(
      `terrarium: ${LOAD_ERROR}; requests answer 500 until the code is fixed`,
    );

    const updated = new Promise<void>((resolve) => {
      const onData = (): void => {
        if (!served!.output().includes("Updated:")) return;
        served!.child.stdout!.off("data", onData);
        resolve();
      };
      served!.child.stdout!.on("data", onData);
    });
    setBroken(project.dir, false);
    await updated;
    const ok = await fetch(`${served.url}/room/lobby`);
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({ room: "ok" });
    expect(served.child.exitCode).toBeNull();
  });
});
