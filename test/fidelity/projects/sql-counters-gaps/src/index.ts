import { DurableObject } from "cloudflare:workers";

export interface Env {
  METER: DurableObjectNamespace<Meter>;
}

const FILL =
  "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 50) " +
  "INSERT INTO items (cat, price, name) SELECT 'c' || (i % 5), i * 3 % 17, 'item' || i FROM n";

type Measured = { rows: number; rowsRead: number; rowsWritten: number } | { error: string };

export class Meter extends DurableObject<Env> {
  measure(query: string, ...bindings: unknown[]): Measured {
    try {
      const cursor = this.ctx.storage.sql.exec(query, ...bindings);
      const rows = cursor.toArray().length;
      return { rows, rowsRead: cursor.rowsRead, rowsWritten: cursor.rowsWritten };
    } catch (error) {
      return { error: String(error) };
    }
  }

  partialOf(query: string) {
    const cursor = this.ctx.storage.sql.exec(query);
    const before = { rowsRead: cursor.rowsRead, rowsWritten: cursor.rowsWritten };
    cursor.next();
    const afterOne = { rowsRead: cursor.rowsRead };
    cursor.toArray();
    return { before, afterOne, afterAll: { rowsRead: cursor.rowsRead } };
  }

  script(): Record<string, unknown> {
    const m = (q: string, ...b: unknown[]) => this.measure(q, ...b);
    const out: Record<string, unknown> = {};
    this.ctx.storage.sql.exec(
      "CREATE TABLE items (id INTEGER PRIMARY KEY, cat TEXT, price INTEGER, name TEXT)",
    );
    this.ctx.storage.sql.exec("CREATE INDEX items_cat ON items (cat, price)");
    // A WITHOUT ROWID table's CREATE writes one schema row less under workerd.
    out.withoutRowid = m("CREATE TABLE kvs (k TEXT PRIMARY KEY, v TEXT) WITHOUT ROWID");
    // A recursive CTE's queue is read row by row.
    out.recursiveFill = m(FILL);
    // An aggregate hides how many rows its index range matched.
    out.countWhere = m("SELECT count(*) FROM items WHERE cat = 'c1'");
    // EXISTS stops at its first match.
    out.exists = m("SELECT EXISTS (SELECT 1 FROM items WHERE name = 'item7') AS e");
    // A rowid upper bound on a scan from the first row ends it early.
    out.leftJoin = m("SELECT i.id, k.v FROM items i LEFT JOIN kvs k ON k.k = i.cat WHERE i.id < 4");
    out.updateReturning = m("UPDATE items SET price = 1 WHERE id < 3 RETURNING id");
    // ALTER TABLE rewrites sqlite_schema through nested statements.
    out.alterAdd = m("ALTER TABLE items ADD COLUMN note TEXT");
    // A filter on a scan: rows read before the first row depend on the data.
    out.partialFiltered = this.partialOf("SELECT * FROM items WHERE price > 3");
    return out;
  }
}

export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    const url = new URL(request.url);
    if (url.pathname === "/script") {
      return Response.json(await env.METER.getByName("meter").script());
    }
    return Response.json({ error: "not found" }, { status: 404 });
  },
};
