import { MessageChannel } from "node:worker_threads";
import { afterEach, describe, expect, it } from "vitest";
import { LeanClient, serveLean } from "../../../runtime/shared/lean-rpc.ts";
import { markReset, isReset } from "../../../runtime/shared/comlink-node.ts";

let channel: MessageChannel;

afterEach(() => {
  channel.port1.close();
  channel.port2.close();
});

function line(handlers: Parameters<typeof serveLean>[1], transfer?: Parameters<typeof serveLean>[2]) {
  channel = new MessageChannel();
  serveLean(channel.port2, handlers, transfer);
  return new LeanClient(channel.port1);
}

describe("lean lines", () => {
  it("answers calls in any order, each with its own result", async () => {
    const client = line({
      echo: async (v: unknown, delayMs: number) => {
        await new Promise((r) => setTimeout(r, delayMs));
        return v;
      },
    });
    const results = await Promise.all([
      client.call("echo", [{ a: [1, 2] }, 20]),
      client.call("echo", [new Map([["k", 1n]]), 0]),
      client.call("echo", ["third", 5]),
    ]);
    expect(results).toEqual([{ a: [1, 2] }, new Map([["k", 1n]]), "third"]);
  });

  it("carries errors as Comlink does: standard classes kept, others named in the message, reset marks kept", async () => {
    const client = line({
      type: async () => {
        throw new TypeError("bad type");
      },
      custom: async () => {
        const e = new Error("not here");
        e.name = "TerrariumMoved";
        throw e;
      },
      reset: async () => {
        const e = new Error("gone");
        markReset(e);
        throw e;
      },
    });
    const t = await client.call("type", []).catch((e: unknown) => e);
    expect(t).toBeInstanceOf(TypeError);
    expect((t as Error).message).toBe("bad type");
    const c = await client.call("custom", []).catch((e: unknown) => e);
    expect((c as Error).message).toBe("TerrariumMoved: not here");
    const r = await client.call("reset", []).catch((e: unknown) => e);
    expect(isReset(r)).toBe(true);
    const u = await client.call("nope", []).catch((e: unknown) => e);
    expect((u as Error).message).toBe("no method nope");
  });

  it("refuses arguments and results that cannot be cloned with DataCloneError", async () => {
    const client = line({ fn: async () => () => 1 });
    const arg = await client.call("fn", [() => 2]).catch((e: unknown) => e);
    expect((arg as Error).name).toBe("DataCloneError");
    const res = await client.call("fn", []).catch((e: unknown) => e);
    expect((res as Error).message).toMatch(/could not be cloned/);
  });

  it("moves the buffers the server names", async () => {
    let kept: ArrayBuffer | null = null;
    const client = line(
      {
        bytes: async () => {
          kept = new Uint8Array([1, 2, 3]).buffer;
          return { body: kept };
        },
      },
      (_m, v) => [(v as { body: ArrayBuffer }).body],
    );
    const out = await client.call<{ body: ArrayBuffer }>("bytes", []);
    expect([...new Uint8Array(out.body)]).toEqual([1, 2, 3]);
    expect(kept!.byteLength).toBe(0); // transferred, not copied
  });
});
