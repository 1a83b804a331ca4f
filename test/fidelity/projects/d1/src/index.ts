import { DurableObject } from "cloudflare:workers";

interface Env {
  DB: D1Database;
  WRITERS: DurableObjectNamespace<Writer>;
}

/** The deterministic part of a D1 result: timings and sizes vary by machine. */
function stable(r: D1Result | D1Response): unknown {
  const { meta, ...rest } = r as D1Result;
  return {
    ...rest,
    // last_row_id of a read depends on the connection (see runtime/bindings/d1.ts).
    meta: {
      changes: meta.changes,
      changed_db: meta.changed_db,
      ...(meta.changes > 0 ? { last_row_id: meta.last_row_id } : {}),
    },
  };
}

async function caught(fn: () => Promise<unknown>): Promise<unknown> {
  try {
    return await fn();
  } catch (e) {
    const err = e as Error;
    return { error: err.message, cause: err.cause instanceof Error ? err.cause.message : null };
  }
}

/** An object writing to the same database as the entry Worker. */
export class Writer extends DurableObject<Env> {
  async note(text: string): Promise<unknown> {
    const r = await this.env.DB.prepare("INSERT INTO notes (text, author) VALUES (?, ?)")
      .bind(text, this.ctx.id.name ?? "?")
      .run();
    return stable(r);
  }
}

export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    const url = new URL(request.url);
    const db = env.DB;
    switch (url.pathname) {
      case "/setup":
        return Response.json(
          await db
            .exec(
              "CREATE TABLE IF NOT EXISTS notes (id INTEGER PRIMARY KEY, text TEXT, author TEXT, data BLOB, flag INTEGER)\nCREATE INDEX IF NOT EXISTS notes_author ON notes(author)",
            )
            .then((r) => ({ count: r.count, durationIsNumber: typeof r.duration === "number" })),
        );
      case "/insert": {
        const stmt = db.prepare("INSERT INTO notes (text, author, data, flag) VALUES (?1, ?2, ?3, ?4)");
        return Response.json([
          stable(await stmt.bind("first", "entry", new Uint8Array([1, 2, 3]), true).run()),
          stable(await stmt.bind("second", "entry", null, false).run()),
          stable(await stmt.bind("third", "other", [255, 0], 7).run()),
        ]);
      }
      case "/object":
        return Response.json(await env.WRITERS.getByName("w1").note("from an object"));
      case "/read":
        return Response.json({
          all: stable(await db.prepare("SELECT * FROM notes ORDER BY id").all()),
          first: await db
            .prepare("SELECT text, flag FROM notes WHERE author = ? ORDER BY id")
            .bind("entry")
            .first(),
          firstColumn: await db.prepare("SELECT COUNT(*) AS n FROM notes").first("n"),
          none: await db.prepare("SELECT * FROM notes WHERE id = ?").bind(999).first(),
          raw: await db.prepare("SELECT id, text FROM notes ORDER BY id LIMIT 2").raw(),
          rawNames: await db
            .prepare("SELECT id, text AS t FROM notes ORDER BY id LIMIT 1")
            .raw({ columnNames: true }),
          rawEmptyNames: await db.prepare("SELECT id FROM notes WHERE 0").raw({ columnNames: true }),
          duplicateColumns: await db.prepare("SELECT 1 AS a, 2 AS a").raw(),
          expression: await db
            .prepare("SELECT 1 + 1 AS two, 'x' || 'y' AS xy, 1.5 AS real, NULL AS empty")
            .first(),
        });
      case "/batch": {
        const ins = db.prepare("INSERT INTO notes (text, author) VALUES (?, 'batch')");
        const ok = await db.batch([
          ins.bind("b1"),
          ins.bind("b2"),
          db.prepare("SELECT COUNT(*) AS n FROM notes"),
        ]);
        const failed = await caught(() =>
          db.batch([ins.bind("rolled back"), db.prepare("INSERT INTO missing VALUES (1)")]),
        );
        const after = await db
          .prepare("SELECT COUNT(*) AS n FROM notes WHERE text = 'rolled back'")
          .first("n");
        return Response.json({ ok: ok.map(stable), failed, rolledBack: after === 0 });
      }
      case "/errors":
        return Response.json({
          noTable: await caught(() => db.prepare("SELECT * FROM missing").all()),
          syntax: await caught(() => db.prepare("SELEC 1").all()),
          constraint: await caught(() => db.prepare("INSERT INTO notes (id) VALUES (1)").run()),
          badType: await caught(async () => db.prepare("SELECT ?").bind(undefined)),
          badObject: await caught(async () => db.prepare("SELECT ?").bind({ a: 1 })),
          noColumn: await caught(() => db.prepare("SELECT 1 AS a").first("b")),
          empty: await caught(() => db.prepare("   ").all()),
          execError: await caught(() =>
            db.exec("INSERT INTO notes (text) VALUES ('ok')\nINSERT INTO nowhere VALUES (1)"),
          ),
        });
      case "/session": {
        const session = db.withSession("first-primary");
        const row = await session
          .prepare("SELECT COUNT(*) AS n FROM notes WHERE author = ?")
          .bind("entry")
          .first();
        return Response.json({ row, bookmark: typeof session.getBookmark() });
      }
      case "/count":
        return Response.json(
          await db
            .prepare("SELECT author, COUNT(*) AS n FROM notes GROUP BY author ORDER BY author")
            .all()
            .then((r) => r.results),
        );
    }
    return new Response("not found", { status: 404 });
  },
};
