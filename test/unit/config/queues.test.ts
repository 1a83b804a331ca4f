import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadProject } from "../../../runtime/config/project.ts";

function project(queues: string, extra = ""): string {
  const dir = mkdtempSync(join(tmpdir(), "terrarium-queues-cfg-"));
  mkdirSync(join(dir, "src"));
  writeFileSync(join(dir, "src", "index.ts"), "export default { fetch() { return new Response('ok') } }");
  writeFileSync(
    join(dir, "wrangler.jsonc"),
    `{ "main": "src/index.ts", "compatibility_date": "2025-04-01", ${extra} "queues": ${queues} }`,
  );
  return dir;
}

describe("queues config", () => {
  it("reads producers and consumers with wrangler dev's defaults", () => {
    const p = loadProject(
      project(`{
        "producers": [{ "binding": "JOBS", "queue": "jobs", "delivery_delay": 5 }],
        "consumers": [
          { "queue": "jobs", "dead_letter_queue": "dlq" },
          { "queue": "dlq", "max_batch_size": 100, "max_batch_timeout": 0.5, "max_retries": 0, "retry_delay": 30 },
        ],
      }`),
    );
    expect(p.queues).toEqual({
      producers: [{ binding: "JOBS", queue: "jobs", deliveryDelay: 5 }],
      consumers: [
        {
          queue: "jobs",
          maxBatchSize: 5,
          maxBatchTimeoutMs: 1000,
          maxRetries: 2,
          retryDelay: 0,
          deadLetterQueue: "dlq",
          maxConcurrency: null,
        },
        {
          queue: "dlq",
          maxBatchSize: 100,
          maxBatchTimeoutMs: 500,
          maxRetries: 0,
          retryDelay: 30,
          deadLetterQueue: null,
          maxConcurrency: null,
        },
      ],
    });
  });

  it("refuses a bad queues block, naming the field", () => {
    const cases: [string, string, string?][] = [
      [`{ "producers": [{ "binding": "JOBS" }] }`, "wrangler.jsonc: queues.producers[0].queue:"],
      [
        `{ "producers": [{ "binding": "JOBS", "queue": "q", "delivery_delay": 90000 }] }`,
        "queues.producers[0].delivery_delay:",
      ],
      [`{ "consumers": [{ "queue": "q", "max_batch_size": 101 }] }`, "queues.consumers[0].max_batch_size:"],
      [
        `{ "consumers": [{ "queue": "q", "max_batch_timeout": 61 }] }`,
        "queues.consumers[0].max_batch_timeout:",
      ],
      [`{ "consumers": [{ "queue": "q", "type": "http_pull" }] }`, "queues.consumers[0].type:"],
      [`{ "consumers": [{ "queue": "q", "batch": 5 }] }`, "queues.consumers[0]:"],
      [
        `{ "consumers": [{ "queue": "q" }, { "queue": "q" }] }`,
        "queues.consumers[1].queue: queue q has two consumers",
      ],
      [
        `{ "consumers": [{ "queue": "q", "dead_letter_queue": "q" }] }`,
        "queues.consumers[0].dead_letter_queue: a queue cannot be its own",
      ],
      [
        `{ "producers": [{ "binding": "X", "queue": "q" }] }`,
        "queues.producers[0].binding: binding X is declared twice",
        `"vars": { "X": "1" },`,
      ],
    ];
    for (const [queues, message, extra] of cases) {
      expect(() => loadProject(project(queues, extra)), queues).toThrow(message);
    }
  });

  it("joins the queues of every Worker (-c), tagging another Worker's producers and consumers", () => {
    const front = project(
      `{ "producers": [{ "binding": "TASKS", "queue": "tasks" }], "consumers": [{ "queue": "results", "max_concurrency": 3 }] }`,
      `"name": "front",`,
    );
    const back = project(
      `{ "producers": [{ "binding": "RESULTS", "queue": "results" }], "consumers": [{ "queue": "tasks" }] }`,
      `"name": "back",`,
    );
    const p = loadProject(front, { configs: [join(front, "wrangler.jsonc"), join(back, "wrangler.jsonc")] });
    expect(p.allQueues.producers.map((q) => [q.binding, q.worker])).toEqual([
      ["TASKS", undefined],
      ["RESULTS", "back"],
    ]);
    expect(p.allQueues.consumers.map((c) => [c.queue, c.worker, c.maxConcurrency])).toEqual([
      ["results", undefined, 3],
      ["tasks", "back", null],
    ]);
    expect(p.allQueues.ownWorker).toBe("front");
    // The project's own config is unchanged (the Design view lists its bindings).
    expect(p.queues.consumers.map((c) => c.queue)).toEqual(["results"]);
  });

  it("refuses two Workers consuming one queue, as Miniflare does", () => {
    const front = project(`{ "consumers": [{ "queue": "tasks" }] }`, `"name": "front",`);
    const back = project(`{ "consumers": [{ "queue": "tasks" }] }`, `"name": "back",`);
    expect(() =>
      loadProject(front, { configs: [join(front, "wrangler.jsonc"), join(back, "wrangler.jsonc")] }),
    ).toThrow('Multiple consumers defined for queue "tasks": "front" and "back"');
  });
});
