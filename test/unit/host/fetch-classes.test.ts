import { join } from "node:path";
import { Worker } from "node:worker_threads";
import { beforeAll, describe, expect, it } from "vitest";
import { compileNodeEntries } from "../../../runtime/build/bundler.ts";
import { REQUEST_MEMBERS, RESPONSE_MEMBERS } from "../../../runtime/host/fetch-classes.ts";

// Node's fetch classes (undici) load in a worker only when something needs
// them: checked in real worker threads, with Node's own list of the modules
// each thread loaded.

describe("the placeholders' member lists", () => {
  it("are exactly the members of Node's Request.prototype and Response.prototype", () => {
    const members = (proto: object) => Reflect.ownKeys(proto).filter((k) => k !== "constructor");
    const sorted = (keys: readonly (string | symbol)[]) => keys.map(String).sort();
    expect(sorted(REQUEST_MEMBERS)).toEqual(sorted(members(Request.prototype)));
    expect(sorted(RESPONSE_MEMBERS)).toEqual(sorted(members(Response.prototype)));
  });
});

let entry: string;
beforeAll(async () => {
  const paths = await compileNodeEntries({
    "lazy-undici.worker": join(import.meta.dirname, "..", "..", "helpers", "lazy-undici.worker.ts"),
  });
  entry = paths["lazy-undici.worker"]!;
}, 60_000);

function runWorker(first: string): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(entry, { workerData: { first }, execArgv: [] });
    worker.once("message", (m: { steps?: Record<string, unknown>; error?: string }) => {
      void worker.terminate();
      if (m.error) reject(new Error(m.error));
      else resolve(m.steps!);
    });
    worker.once("error", reject);
  });
}

describe("undici in a worker thread", () => {
  const FIRST_LOOKS: [string, unknown][] = [
    ["global", true],
    ["member", "text/plain"],
    ["constructor", "from a blob"],
    ["static", "error"],
    ["fetch", "hi"],
  ];
  for (const [first, look] of FIRST_LOOKS) {
    it(`is not loaded by requests and responses nobody looks inside, then loads on first need (${first})`, async () => {
      const steps = await runWorker(first);
      expect(steps.afterImport).toBe(false);
      expect(steps.unread).toEqual({
        undici: false,
        status: 201,
        headers: [
          ["content-type", "text/plain;charset=UTF-8"],
          ["x-a", "1"],
        ],
        body: "GET http://x.test/a?b=1",
        isResponse: true,
        awaited: true,
      });
      expect(steps.firstLook).toEqual(look);
      expect(steps.loaded).toBe(true);
      expect(steps.requestIsRequest).toBe(true);
      expect(steps.accept).toBe("text/plain");
      expect(steps.tag).toBe("[object Request]");
      expect(steps.earlyHeaders).toEqual([
        ["content-type", "text/plain;charset=UTF-8"],
        ["x-early", "yes"],
      ]);
      expect(steps.earlyText).toBe("early");
      expect(steps.earlyIsNodeResponse).toBe(true);
      expect(steps.globalResponseKept).toBe(true);
      expect(steps.headersIsNode).toBe(true);
      expect(steps.later).toEqual([202, [["content-type", "text/plain;charset=UTF-8"]], "later"]);
    }, 60_000);
  }
});
