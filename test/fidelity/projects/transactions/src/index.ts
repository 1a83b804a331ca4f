import { DurableObject } from "cloudflare:workers";

export interface Env {
  BANK: DurableObjectNamespace<Bank>;
}

class InsufficientFunds extends Error {
  override name = "InsufficientFunds";
}

function errorInfo(error: unknown) {
  return error instanceof Error
    ? { name: error.name, message: error.message }
    : { name: "?", message: String(error) };
}

export class Bank extends DurableObject<Env> {
  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    ctx.storage.sql.exec(`
      CREATE TABLE IF NOT EXISTS accounts (name TEXT PRIMARY KEY, balance INTEGER NOT NULL CHECK (balance >= 0));
      CREATE TABLE IF NOT EXISTS ledger (id INTEGER PRIMARY KEY, memo TEXT NOT NULL)
    `);
  }

  async state() {
    const accounts = this.ctx.storage.sql.exec("SELECT name, balance FROM accounts ORDER BY name").toArray();
    const ledger = this.ctx.storage.sql
      .exec("SELECT memo FROM ledger ORDER BY id")
      .toArray()
      .map((r) => r.memo);
    const kv = Object.fromEntries(await this.ctx.storage.list());
    return { accounts, ledger, kv };
  }

  open(name: string, balance: number) {
    return this.ctx.storage.transactionSync(() => {
      this.ctx.storage.sql.exec("INSERT INTO accounts VALUES (?, ?)", name, balance);
      this.ctx.storage.sql.exec("INSERT INTO ledger (memo) VALUES (?)", `open ${name} ${balance}`);
      return { opened: name };
    });
  }

  // SQL transfer: the CHECK constraint fails the second statement, and the
  // first must be rolled back with it.
  transferSql(from: string, to: string, amount: number) {
    try {
      const result = this.ctx.storage.transactionSync(() => {
        this.ctx.storage.sql.exec("UPDATE accounts SET balance = balance + ? WHERE name = ?", amount, to);
        this.ctx.storage.sql.exec("UPDATE accounts SET balance = balance - ? WHERE name = ?", amount, from);
        this.ctx.storage.sql.exec("INSERT INTO ledger (memo) VALUES (?)", `sql ${from}->${to} ${amount}`);
        return "committed";
      });
      return { ok: true, result };
    } catch (error) {
      return { ok: false, error: errorInfo(error) };
    }
  }

  // Sync transaction mixing SQL and KV; a thrown JS error rolls back both.
  syncMixed(fail: boolean) {
    try {
      return this.ctx.storage.transactionSync(() => {
        this.ctx.storage.sql.exec("INSERT INTO ledger (memo) VALUES (?)", `mixed fail=${fail}`);
        this.ctx.storage.kv.put("mixed", fail ? "should-not-exist" : "written");
        if (fail) throw new InsufficientFunds("thrown inside transactionSync");
        return { ok: true };
      });
    } catch (error) {
      return { ok: false, error: errorInfo(error) };
    }
  }

  // A nested transactionSync whose failure the outer one catches: only the
  // inner writes are undone.
  nested() {
    return this.ctx.storage.transactionSync(() => {
      this.ctx.storage.sql.exec("INSERT INTO ledger (memo) VALUES ('outer before')");
      let inner: unknown;
      try {
        this.ctx.storage.transactionSync(() => {
          this.ctx.storage.sql.exec("INSERT INTO ledger (memo) VALUES ('inner')");
          throw new Error("inner failed");
        });
      } catch (error) {
        inner = errorInfo(error);
      }
      this.ctx.storage.sql.exec("INSERT INTO ledger (memo) VALUES ('outer after')");
      return { inner };
    });
  }

  // KV transfer in an async transaction; overdraft throws and rolls back.
  async transferKv(from: string, to: string, amount: number) {
    try {
      const result = await this.ctx.storage.transaction(async (txn) => {
        const source = (await txn.get<number>(`kv:${from}`)) ?? 0;
        const target = (await txn.get<number>(`kv:${to}`)) ?? 0;
        await txn.put(`kv:${to}`, target + amount);
        const seen = await txn.get<number>(`kv:${to}`);
        if (source < amount) throw new InsufficientFunds(`${from} has ${source}, needs ${amount}`);
        await txn.put(`kv:${from}`, source - amount);
        return { seenInside: seen };
      });
      return { ok: true, result };
    } catch (error) {
      return { ok: false, error: errorInfo(error) };
    }
  }

  // An explicit txn.rollback() discards the writes without an error.
  async explicitRollback() {
    const result = await this.ctx.storage.transaction(async (txn) => {
      await txn.put("rolled", "back");
      await txn.delete("kv:alice");
      const inside = { rolled: await txn.get("rolled"), alice: await txn.get("kv:alice") };
      txn.rollback();
      return { inside };
    });
    return {
      result,
      after: {
        rolled: (await this.ctx.storage.get("rolled")) ?? null,
        alice: (await this.ctx.storage.get("kv:alice")) ?? null,
      },
    };
  }

  async asyncSqlRollback() {
    try {
      await this.ctx.storage.transaction(async () => {
        this.ctx.storage.sql.exec("INSERT INTO ledger (memo) VALUES ('async sql')");
        await this.ctx.storage.put("async", "x");
        throw new TypeError("async transaction failed");
      });
      return { ok: true };
    } catch (error) {
      return { ok: false, error: errorInfo(error) };
    }
  }

  async seedKv() {
    await this.ctx.storage.put({ "kv:alice": 100, "kv:bob": 0 });
    return { seeded: true };
  }
}

export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    const url = new URL(request.url);
    const bank = env.BANK.getByName("bank");
    const p = url.searchParams;
    switch (url.pathname) {
      case "/state":
        return Response.json(await bank.state());
      case "/open":
        try {
          return Response.json(await bank.open(p.get("name") ?? "", Number(p.get("balance"))));
        } catch (error) {
          return Response.json({ rpcError: errorInfo(error) }, { status: 409 });
        }
      case "/transfer-sql":
        return Response.json(
          await bank.transferSql(p.get("from") ?? "", p.get("to") ?? "", Number(p.get("amount"))),
        );
      case "/sync-mixed":
        return Response.json(await bank.syncMixed(p.get("fail") === "1"));
      case "/nested":
        return Response.json(await bank.nested());
      case "/seed-kv":
        return Response.json(await bank.seedKv());
      case "/transfer-kv":
        return Response.json(
          await bank.transferKv(p.get("from") ?? "", p.get("to") ?? "", Number(p.get("amount"))),
        );
      case "/explicit-rollback":
        return Response.json(await bank.explicitRollback());
      case "/async-sql-rollback":
        return Response.json(await bank.asyncSqlRollback());
      default:
        return Response.json({ error: "not found" }, { status: 404 });
    }
  },
};
