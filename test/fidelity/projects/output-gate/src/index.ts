import { DurableObject } from "cloudflare:workers";

export interface Env {
  GATE: DurableObjectNamespace<Gate>;
}

// Writes of one turn are coalesced into one implicit transaction that
// commits when the turn is over; an object reset (abort(), a failing
// blockConcurrencyWhile) before then loses them. Each case writes to its
// own object, then a read shows what survived the reset.
const nextTurn = () => new Promise<void>((resolve) => setTimeout(resolve, 1));

function errorInfo(error: unknown) {
  return error instanceof Error ? { name: error.name, message: error.message } : String(error);
}

export class Gate extends DurableObject<Env> {
  async run(name: string) {
    const storage = this.ctx.storage;
    const cases: Record<string, () => Promise<unknown>> = {
      // put, then abort in the same turn: the put is rolled back.
      "put-abort": async () => {
        await storage.put("written", true);
        this.ctx.abort("after the write");
      },
      // Several puts, SQL and the sync KV API in one turn: all rolled back.
      "mixed-abort": async () => {
        await storage.put({ a: 1, b: 2 });
        storage.kv.put("sync", true);
        storage.sql.exec("CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY, v TEXT)");
        storage.sql.exec("INSERT INTO t (v) VALUES ('lost')");
        await storage.delete("a");
        this.ctx.abort();
      },
      // A write committed in an earlier turn survives the abort; the later one does not.
      "turn-abort": async () => {
        await storage.put("written", "first turn");
        await nextTurn();
        await storage.put("later", "second turn");
        this.ctx.abort("after a turn");
      },
      // transactionSync joins the implicit transaction.
      "sync-txn-abort": async () => {
        storage.transactionSync(() => {
          storage.kv.put("written", "in transactionSync");
        });
        this.ctx.abort();
      },
      // An explicit transaction() commits when it ends.
      "txn-abort": async () => {
        await storage.transaction(async (txn) => {
          await txn.put("written", "in transaction()");
        });
        await storage.put("later", "after the transaction");
        this.ctx.abort();
      },
      // An alarm set in the turn is rolled back too.
      "alarm-abort": async () => {
        await storage.setAlarm(Date.now() + 3_600_000);
        this.ctx.abort();
      },
      // A failing blockConcurrencyWhile resets the object: its writes go with it.
      "block-throws": async () => {
        await this.ctx.blockConcurrencyWhile(async () => {
          await storage.put("written", "inside the block");
          throw new Error("the block failed");
        });
      },
      // A handler that throws does not reset the object: its writes stay.
      "put-throw": async () => {
        await storage.put("written", "before the throw");
        throw new RangeError("the handler failed");
      },
      // After abort() the old instance's storage refuses writes.
      "write-after-abort": async () => {
        try {
          this.ctx.abort("reset");
        } catch {
          // The object is reset anyway.
        }
        try {
          await storage.put("later", "after abort");
          return "put after abort succeeded";
        } catch (error) {
          return { putAfterAbort: errorInfo(error) };
        }
      },
    };
    const fn = cases[name];
    if (!fn) throw new Error(`no case ${name}`);
    return { returned: (await fn()) ?? null };
  }

  // setAlarm() needs a handler; this one is never due during the script.
  async alarm() {}

  async read() {
    const tables = this.ctx.storage.sql
      .exec("SELECT name FROM sqlite_master WHERE type = 'table' AND name = 't'")
      .toArray()
      .map((r) => r.name);
    return {
      keys: Object.fromEntries(await this.ctx.storage.list()),
      tables,
      alarm: (await this.ctx.storage.getAlarm()) !== null,
    };
  }
}

export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    const url = new URL(request.url);
    const [, action, name = ""] = url.pathname.split("/");
    const gate = env.GATE.getByName(name);
    if (action === "run") {
      try {
        return Response.json(await gate.run(name));
      } catch (error) {
        return Response.json({ error: errorInfo(error) });
      }
    }
    if (action === "read") return Response.json(await gate.read());
    return Response.json({ error: "not found" }, { status: 404 });
  },
};
