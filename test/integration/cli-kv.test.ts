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

describe("terrarium kv", () => {
  it("puts, lists, gets and deletes keys while a server runs, and its Worker sees them", async () => {
    project = tempProject("kv");
    const data = ["--data", project.dataDir];
    served = await serve(project.dir, ["--quiet", ...data]);
    await fetch(`${served.url}/put?key=user:1&value=ada`, { method: "POST" });

    const put = await run([
      "kv",
      "put",
      project.dir,
      "--key",
      "user:2",
      "--value",
      "grace",
      "--metadata",
      '{"by":"cli"}',
      "--ttl",
      "3600",
      ...data,
    ]);
    expect(put.code, put.output).toBe(0);
    expect(put.output).toBe("Put user:2 in SESSIONS\n");
    expect(await (await fetch(`${served.url}/get?key=user:2`)).json()).toEqual({
      value: "grace",
      metadata: { by: "cli" },
      cacheStatus: null,
    });

    const list = await run(["kv", "list", project.dir, "--prefix", "user:", "--json", ...data]);
    expect(list.code, list.output).toBe(0);
    const page = JSON.parse(list.output) as { keys: { name: string; metadata?: unknown }[] };
    expect(page.keys.map((k) => k.name)).toEqual(["user:1", "user:2"]);
    expect(page.keys[1]!.metadata).toEqual({ by: "cli" });

    const get = await run(["kv", "get", project.dir, "--key", "user:1", ...data]);
    expect(get).toEqual({ code: 0, output: "ada" });

    // The binding's rules, with workerd's message.
    const short = await run(["kv", "put", project.dir, "--key", "k", "--value", "v", "--ttl", "30", ...data]);
    expect(short.code).toBe(1);
    expect(short.output).toContain(
      "KV PUT failed: 400 Invalid expiration_ttl of 30. Expiration TTL must be at least 60.",
    );

    const del = await run(["kv", "delete", project.dir, "--key", "user:1", ...data]);
    expect(del.code, del.output).toBe(0);
    expect(
      ((await (await fetch(`${served.url}/get?key=user:1`)).json()) as { value: unknown }).value,
    ).toBeNull();
    const gone = await run(["kv", "get", project.dir, "--key", "user:1", ...data]);
    expect(gone.code).toBe(1);
    expect(gone.output).toContain("no key user:1");
  });

  it("says what is wrong with its arguments", async () => {
    project = tempProject("kv");
    const noAction = await run(["kv", project.dir]);
    expect(noAction.code).toBe(2);
    expect(noAction.output).toContain("terrarium kv: needs an action: terrarium kv list|get|put|delete");
    const noBinding = await run(["kv", "list", project.dir, "--binding", "NOPE", "--data", project.dataDir]);
    expect(noBinding.code).toBe(2);
    expect(noBinding.output).toContain("no KV namespace bound as NOPE; the project binds SESSIONS");
    const noKey = await run(["kv", "get", project.dir, "--data", project.dataDir]);
    expect(noKey.code).toBe(2);
    expect(noKey.output).toContain("terrarium kv: get needs --key");
  });
});
