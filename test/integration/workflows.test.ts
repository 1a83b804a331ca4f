import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterEach, describe, expect, it } from "vitest";
import { serve, type Served } from "../helpers/cli.ts";
import { enginesPerTest, openEngine, request, tempProject, until } from "../helpers/project.ts";
import { controlApi } from "../../runtime/api/control-api.ts";

let served: Served | null = null;
let project: ReturnType<typeof tempProject> | null = null;

afterEach(async () => {
  await served?.stop("SIGKILL");
  served = null;
  project?.cleanup();
  project = null;
});

const engines = enginesPerTest();

/** Whether the instance's event wait is recorded in the data folder (read-only: Terrarium has it open). */
function waitingForApproval(id: string): boolean {
  const db = new Database(join(project!.dataDir, "workflows.sqlite"), { readonly: true });
  try {
    return db.prepare("SELECT 1 FROM steps WHERE instance = ? AND kind = 'wait'").get(id) !== undefined;
  } finally {
    db.close();
  }
}

async function get(path: string): Promise<Record<string, unknown>> {
  const res = await fetch(`${served!.url}${path}`);
  expect(res.status).toBe(200);
  return (await res.json()) as Record<string, unknown>;
}

describe("Workflows", () => {
  it("resumes an instance after Terrarium restarts while it sleeps and while it waits for an event, never re-running a finished step", async () => {
    project = tempProject("workflows");
    served = await serve(project.dir, ["--data", project.dataDir]);
    const started = await fetch(`${served.url}/start?id=order-7`, {
      method: "POST",
      body: JSON.stringify({ qty: 3, sleep: "3 seconds", failures: 1 }),
    });
    expect(await started.json()).toEqual({ id: "order-7" });
    // Charged and reserved (after one failed attempt): now in its sleep.
    await until(
      async () => ((await get("/status?id=order-7")).__LOCAL_DEV_STEP_OUTPUTS as unknown[]).length === 2,
      "the first two steps to finish",
    );
    expect(await get("/counts?id=order-7")).toEqual({ runs: 1, charge: 1, reserve: 2, ship: 0 });

    // Killed outright in the middle of the sleep.
    await served.stop("SIGKILL");
    served = await serve(project.dir, ["--data", project.dataDir]);
    expect((await get("/status?id=order-7")).status).toBe("running");
    // The run starts over (a replay): finished steps answer from the data folder.
    await until(async () => (await get("/counts?id=order-7")).runs === 2, "the instance to resume");
    expect(await get("/counts?id=order-7")).toEqual({ runs: 2, charge: 1, reserve: 2, ship: 0 });

    // Stopped cleanly while it waits for its approval (the sleep is over once the status says waiting).
    await until(() => waitingForApproval("order-7"), "the instance to wait for its approval");
    expect(await served.stop("SIGTERM")).toBe(0);
    served = await serve(project.dir, ["--data", project.dataDir]);
    await until(async () => (await get("/counts?id=order-7")).runs === 3, "the instance to resume again");
    expect((await get("/approve?id=order-7&by=ada")).sent).toBe(true);
    await until(
      async () => (await get("/status?id=order-7")).status === "complete",
      "the instance to complete",
    );

    expect(await get("/status?id=order-7")).toEqual({
      status: "complete",
      __LOCAL_DEV_STEP_OUTPUTS: [{ amount: 30 }, { reservedOn: 2 }, { by: "ada" }, "shipped"],
      output: { charged: { amount: 30 }, flaky: { reservedOn: 2 }, approvedBy: "ada", shipped: "shipped" },
    });
    expect(await get("/counts?id=order-7")).toEqual({ runs: 3, charge: 1, reserve: 2, ship: 1 });
  }, 90_000);

  it("retries a failing step with its backoff and shows every attempt in the Inspector's timeline", async () => {
    const { engine } = await engines.open("workflows");
    const started = await request(engine, "POST", "/start?id=flaky", JSON.stringify({ qty: 1, failures: 3 }));
    expect(started.json).toEqual({ id: "flaky" });
    await until(async () => {
      const i = await controlApi(engine).workflowInstance({ binding: "ORDERS", id: "flaky" });
      return i?.steps_.some((s) => s.kind === "wait") ?? false;
    }, "the instance to wait for its approval");
    const detail = (await controlApi(engine).workflowInstance({ binding: "ORDERS", id: "flaky" }))!;
    expect(detail.status).toBe("running");
    expect(detail.params).toBe('{"qty":1,"failures":3}');
    expect(detail.steps_.map((s) => [s.kind, s.name, s.state])).toEqual([
      ["do", "charge", "done"],
      ["do", "reserve stock", "done"],
      ["sleep", "let it settle", "done"],
      ["wait", "approval", "waiting"],
    ]);
    const reserve = detail.steps_[1]!;
    expect(reserve.output).toBe('{"reservedOn":4}');
    expect(reserve.attempts.map((a) => a.error?.message ?? null)).toEqual([
      "warehouse busy (attempt 1)",
      "warehouse busy (attempt 2)",
      "warehouse busy (attempt 3)",
      null,
    ]);
    // Exponential backoff from 20 ms.
    expect(reserve.attempts.map((a) => a.retryDelayMs ?? null)).toEqual([20, 40, 80, null]);
    expect(reserve.attempts.every((a) => a.endedAt !== null && a.endedAt >= a.startedAt)).toBe(true);
    expect(detail.steps_[3]!.eventType).toBe("approve");

    const list = await controlApi(engine).workflows();
    expect(list).toEqual([
      {
        binding: "ORDERS",
        name: "orders",
        className: "OrderWorkflow",
        instances: 1,
        byStatus: { running: 1 },
        worker: "workflows-fixture",
      },
    ]);
    expect(
      (await controlApi(engine).workflowInstances({ binding: "ORDERS" })).map((i) => [i.id, i.status]),
    ).toEqual([["flaky", "running"]]);

    // Driven from the Inspector: an event, then the output.
    await controlApi(engine).workflowEvent({
      binding: "ORDERS",
      id: "flaky",
      type: "approve",
      payload: { by: "ui" },
    });
    await until(
      async () =>
        (await controlApi(engine).workflowInstance({ binding: "ORDERS", id: "flaky" }))?.status ===
        "complete",
      "the instance to complete",
    );
    const done = (await controlApi(engine).workflowInstance({ binding: "ORDERS", id: "flaky" }))!;
    expect(JSON.parse(done.output!)).toMatchObject({ approvedBy: "ui", shipped: "shipped" });
    expect(done.events).toEqual([
      expect.objectContaining({ type: "approve", payload: '{"by":"ui"}', consumed: true }),
    ]);
  }, 60_000);

  it("moves a waiting instance to new code when the project changes, replaying its recorded steps", async () => {
    const t = await engines.open("workflows");
    const { engine } = t;
    await request(engine, "POST", "/start?id=upgrade", JSON.stringify({ qty: 2, sleep: "10 millis" }));
    const waiting = async () =>
      (await controlApi(engine).workflowInstance({ binding: "ORDERS", id: "upgrade" }))?.steps_.some(
        (s) => s.kind === "wait" && s.state === "waiting",
      ) ?? false;
    await until(waiting, "the instance to wait for its approval");
    const src = join(t.project.dir, "src", "index.ts");
    writeFileSync(src, readFileSync(src, "utf8").replace('return "shipped";', 'return "shipped by v2";'));
    expect((await engine.reload()).ok).toBe(true);
    // The old entry worker ends a few seconds after the change; the instance runs again on the new code.
    await until(
      async () => ((await request(engine, "GET", "/counts?id=upgrade")).json as { runs: number }).runs === 2,
      "the instance to run again",
      30_000,
    );
    await until(waiting, "the instance to wait again on the new code");
    await request(engine, "GET", "/approve?id=upgrade&by=v2");
    await until(
      async () =>
        (await controlApi(engine).workflowInstance({ binding: "ORDERS", id: "upgrade" }))?.status ===
        "complete",
      "the instance to complete",
    );
    expect((await request(engine, "GET", "/status?id=upgrade")).json).toMatchObject({
      output: { approvedBy: "v2", shipped: "shipped by v2" },
    });
    expect((await request(engine, "GET", "/counts?id=upgrade")).json).toEqual({
      runs: 2,
      charge: 1,
      reserve: 1,
      ship: 1,
    });
  }, 60_000);

  it("refuses a workflows entry it cannot run, naming the field", async () => {
    const project = tempProject("workflows");
    try {
      const config = join(project.dir, "wrangler.jsonc");
      const original = readFileSync(config, "utf8");
      const cases: [string, RegExp][] = [
        [
          '"class_name": "Missing"',
          /class Missing is not exported by src\/index\.ts.*workflows\[0\]\.class_name/s,
        ],
        [
          '"class_name": "OrderWorkflow", "script_name": "billing"',
          /another Worker is not supported yet.*workflows\[0\]\.script_name/s,
        ],
        ['"class_name": "Order Workflow"', /must be a JavaScript identifier.*workflows\[0\]\.class_name/s],
      ];
      for (const [replace, message] of cases) {
        const text = original.replace('"class_name": "OrderWorkflow"', replace);
        writeFileSync(config, text);
        const err = await openEngine(project.dir, project.dataDir).then(
          async (e) => {
            await e.close();
            return null;
          },
          (e: unknown) => e as Error,
        );
        expect(err, replace).not.toBeNull();
        expect(`${err!.message} ${JSON.stringify(err)}`).toMatch(message);
      }
    } finally {
      project.cleanup();
    }
  }, 60_000);
});
