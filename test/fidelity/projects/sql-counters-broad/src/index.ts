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
    out.setup = m("CREATE TABLE items (id INTEGER PRIMARY KEY, cat TEXT, price INTEGER, name TEXT)");
    out.idxCat = m("CREATE INDEX items_cat ON items (cat, price)");
    // Set up without measuring (sql-counters-gaps measures these two).
    this.ctx.storage.sql.exec("CREATE TABLE kvs (k TEXT PRIMARY KEY, v TEXT) WITHOUT ROWID");
    this.ctx.storage.sql.exec(FILL);
    out.kvInsert = m("INSERT INTO kvs VALUES ('a', '1'), ('b', '2'), ('c', '3')");
    out.kvLookup = m("SELECT v FROM kvs WHERE k = 'b'");
    out.kvMissing = m("SELECT v FROM kvs WHERE k = 'zz'");
    out.kvUpdate = m("UPDATE kvs SET v = 'x' WHERE k = 'a'");
    out.kvDelete = m("DELETE FROM kvs WHERE k = 'c'");
    out.orderBy = m("SELECT * FROM items ORDER BY name");
    out.orderByIndex = m("SELECT cat, price FROM items ORDER BY cat, price");
    out.limitOnly = m("SELECT * FROM items LIMIT 5");
    out.limitOffset = m("SELECT * FROM items LIMIT 5 OFFSET 10");
    out.groupBy = m("SELECT cat, count(*) FROM items GROUP BY cat");
    out.groupByName = m("SELECT name, count(*) FROM items GROUP BY name");
    out.minMax = m("SELECT min(id), max(id) FROM items");
    out.indexRangeComposite = m("SELECT * FROM items WHERE cat = 'c2' AND price > 5");
    out.indexMissing = m("SELECT * FROM items WHERE cat = 'nope'");
    out.inList = m("SELECT * FROM items WHERE id IN (1, 5, 9, 999)");
    out.subquery = m("SELECT * FROM items WHERE id IN (SELECT id FROM items WHERE price = 0)");
    out.distinct = m("SELECT DISTINCT cat FROM items");
    out.like = m("SELECT * FROM items WHERE name LIKE 'item1%'");
    out.updateRange = m("UPDATE items SET price = price + 1 WHERE id BETWEEN 10 AND 14");
    out.updateIndexedCol = m("UPDATE items SET cat = 'c9' WHERE id = 3");
    out.updateNone = m("UPDATE items SET price = 0 WHERE id = 999");
    out.deleteRange = m("DELETE FROM items WHERE id > 45");
    out.deleteByIndex = m("DELETE FROM items WHERE cat = 'c4'");
    out.insertIgnore = m("INSERT OR IGNORE INTO items (id, cat, price, name) VALUES (1, 'c0', 1, 'dup')");
    out.insertIgnoreNew = m(
      "INSERT OR IGNORE INTO items (id, cat, price, name) VALUES (100, 'c0', 1, 'new')",
    );
    out.upsertInsert = m(
      "INSERT INTO kvs (k, v) VALUES ('n', 'new') ON CONFLICT (k) DO UPDATE SET v = excluded.v",
    );
    out.upsertReturningUpdate = m(
      "INSERT INTO items (id, cat, price, name) VALUES (1, 'c0', 1, 'x') ON CONFLICT (id) DO UPDATE SET price = price + 1 RETURNING price",
    );
    out.upsertReturningKv = m(
      "INSERT INTO kvs (k, v) VALUES ('n', 'again') ON CONFLICT (k) DO UPDATE SET v = excluded.v RETURNING v",
    );
    out.deleteReturning = m("DELETE FROM items WHERE id = 100 RETURNING *");
    out.dropIndex = m("DROP INDEX items_cat");
    out.partialOrdered = this.partialOf("SELECT * FROM items ORDER BY name");
    out.partialRange = this.partialOf("SELECT * FROM items WHERE id BETWEEN 5 AND 9");
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
