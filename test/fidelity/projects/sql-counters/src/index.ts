import { DurableObject } from "cloudflare:workers";

export interface Env {
  METER: DurableObjectNamespace<Meter>;
}

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

  // The counters of a cursor that has not been read to the end yet.
  partial() {
    const cursor = this.ctx.storage.sql.exec("SELECT * FROM plain ORDER BY id");
    const before = { rowsRead: cursor.rowsRead, rowsWritten: cursor.rowsWritten };
    cursor.next();
    const afterOne = { rowsRead: cursor.rowsRead };
    cursor.toArray();
    return { before, afterOne, afterAll: { rowsRead: cursor.rowsRead } };
  }

  script(): Record<string, Measured | unknown> {
    const m = (q: string, ...b: unknown[]) => this.measure(q, ...b);
    return {
      createPlain: m("CREATE TABLE plain (id INTEGER PRIMARY KEY, v TEXT)"),
      createIndexed: m("CREATE TABLE indexed (id INTEGER PRIMARY KEY, k TEXT UNIQUE, n INTEGER)"),
      createIndex: m("CREATE INDEX indexed_n ON indexed (n)"),
      emptyScan: m("SELECT * FROM plain"),
      constant: m("SELECT 1 AS one"),
      insertPlain: m("INSERT INTO plain (v) VALUES (?)", "a"),
      insertPlainMany: m("INSERT INTO plain (v) VALUES ('b'), ('c'), ('d'), ('e')"),
      insertIndexed: m("INSERT INTO indexed (k, n) VALUES (?, ?)", "x", 1),
      insertIndexedMany: m("INSERT INTO indexed (k, n) VALUES ('y', 2), ('z', 3), ('w', 2)"),
      insertReturning: m("INSERT INTO plain (v) VALUES ('f') RETURNING id"),
      insertSelect: m("INSERT INTO plain (v) SELECT k FROM indexed"),
      fullScan: m("SELECT * FROM plain"),
      pointLookup: m("SELECT * FROM plain WHERE id = ?", 3),
      missingPoint: m("SELECT * FROM plain WHERE id = ?", 999),
      rangeScan: m("SELECT * FROM plain WHERE id BETWEEN 2 AND 4"),
      indexLookup: m("SELECT * FROM indexed WHERE k = ?", "z"),
      indexRange: m("SELECT * FROM indexed WHERE n = 2"),
      filteredScan: m("SELECT * FROM plain WHERE v > 'b'"),
      count: m("SELECT count(*) AS n FROM plain"),
      orderedLimit: m("SELECT * FROM plain ORDER BY v DESC LIMIT 2"),
      join: m("SELECT p.id, i.n FROM plain p JOIN indexed i ON i.k = p.v"),
      updateOne: m("UPDATE plain SET v = 'B' WHERE id = 2"),
      updateScan: m("UPDATE plain SET v = v || '!' WHERE v < 'e'"),
      updateIndexed: m("UPDATE indexed SET n = n + 10 WHERE n = 2"),
      upsert: m("INSERT INTO indexed (k, n) VALUES ('x', 5) ON CONFLICT (k) DO UPDATE SET n = excluded.n"),
      replace: m("INSERT OR REPLACE INTO indexed (id, k, n) VALUES (1, 'x', 6)"),
      deleteOne: m("DELETE FROM plain WHERE id = 1"),
      deleteIndexed: m("DELETE FROM indexed WHERE k = 'y'"),
      multiStatement: m("INSERT INTO plain (v) VALUES ('g'); SELECT * FROM plain"),
      partial: this.partial(),
      deleteAllRows: m("DELETE FROM plain"),
      dropTable: m("DROP TABLE indexed"),
    };
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
