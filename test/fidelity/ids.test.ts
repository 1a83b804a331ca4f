import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { idFromName, idFromString, namespaceKey } from "../../runtime/shared/ids.ts";
import { PROJECTS_DIR, readProject, startWorkerd, type RunningServer } from "./harness.ts";

/**
 * Terrarium derives Durable Object ids itself; they must be the ids workerd
 * gives the same worker name, class and object name, so that ids a user
 * sees locally in Terrarium match those wrangler dev shows.
 */
const PROJECT_DIR = join(PROJECTS_DIR, "ids");
const NAMES = ["alice", "bob", "", "été 😀", "a/b?c", "x".repeat(300)];

interface NamedIds {
  name: string;
  User: string;
  Room: string;
}

interface ErrorShape {
  error: { name: string; message: string };
}

let server: RunningServer | undefined;
let workerName = "";

async function getJson<T>(path: string): Promise<T> {
  if (server === undefined) throw new Error("workerd is not running");
  const response = await fetch(new URL(path, server.url));
  expect(response.status).toBe(200);
  return (await response.json()) as T;
}

function thrown(fn: () => unknown): ErrorShape | { ok: unknown } {
  try {
    return { ok: fn() };
  } catch (error) {
    if (!(error instanceof Error)) throw error;
    return { error: { name: error.name, message: error.message } };
  }
}

describe("Durable Object ids match workerd", () => {
  beforeAll(async () => {
    workerName = (await readProject(PROJECT_DIR)).name;
    server = await startWorkerd(PROJECT_DIR);
  }, 60_000);

  afterAll(async () => {
    await server?.stop();
  }, 30_000);

  it("idFromName gives workerd's ids for each class", async () => {
    const query = NAMES.map((n) => `name=${encodeURIComponent(n)}`).join("&");
    const fromWorkerd = await getJson<NamedIds[]>(`/from-names?${query}`);
    const users = namespaceKey(workerName, "User");
    const rooms = namespaceKey(workerName, "Room");
    const ours = NAMES.map((name) => ({
      name,
      User: idFromName(users, name),
      Room: idFromName(rooms, name),
    }));
    expect(ours).toEqual(fromWorkerd);
  });

  it("idFromString accepts and rejects what workerd does, with its errors", async () => {
    const fromWorkerd = await getJson<Record<string, unknown>>("/parse-errors");
    const users = namespaceKey(workerName, "User");
    const rooms = namespaceKey(workerName, "Room");
    const userId = idFromName(users, "alice");
    const flipped = userId.slice(0, 63) + (userId.endsWith("0") ? "1" : "0");
    const ours = {
      otherNamespace: thrown(() => idFromString(users, idFromName(rooms, "alice"))),
      flippedLastDigit: thrown(() => idFromString(users, flipped)),
      tooShort: thrown(() => idFromString(users, userId.slice(0, 63))),
      tooLong: thrown(() => idFromString(users, userId + "0")),
      notHex: thrown(() => idFromString(users, "z".repeat(64))),
      empty: thrown(() => idFromString(users, "")),
    };
    expect(ours).toEqual(fromWorkerd);
  });

  it("idFromString canonicalises an upper-case id as workerd does", async () => {
    const fromWorkerd = await getJson<{ alice: string; upperCase: { ok: string } }>("/properties");
    const users = namespaceKey(workerName, "User");
    expect(idFromString(users, fromWorkerd.alice.toUpperCase())).toBe(fromWorkerd.upperCase.ok);
  });
});
