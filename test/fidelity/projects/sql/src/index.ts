import { DurableObject } from "cloudflare:workers";

export interface Env {
  NOTES: DurableObjectNamespace<NoteBook>;
}

type Note = { id: number; title: string; stars: number; score: number | null };

function errorInfo(error: unknown): { name: string; message: string } {
  return error instanceof Error
    ? { name: error.name, message: error.message }
    : { name: "?", message: String(error) };
}

function bytesToArray(value: unknown): unknown {
  return value instanceof ArrayBuffer ? { bytes: Array.from(new Uint8Array(value)) } : value;
}

export class NoteBook extends DurableObject<Env> {
  sql: SqlStorage;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    this.sql.exec(`
      CREATE TABLE IF NOT EXISTS notes (
        id    INTEGER PRIMARY KEY,
        title TEXT NOT NULL UNIQUE,
        stars INTEGER NOT NULL DEFAULT 0,
        score REAL
      );
      CREATE INDEX IF NOT EXISTS notes_by_stars ON notes (stars);
    `);
  }

  add(title: string, stars: number, score: number | null) {
    const cursor = this.sql.exec(
      "INSERT INTO notes (title, stars, score) VALUES (?, ?, ?) RETURNING id",
      title,
      stars,
      score,
    );
    return cursor.one();
  }

  addMany(titles: string[]) {
    for (const [i, title] of titles.entries()) {
      this.sql.exec("INSERT INTO notes (title, stars) VALUES (?1, ?2)", title, i);
    }
    return { added: titles.length };
  }

  all() {
    const cursor = this.sql.exec<Note>("SELECT * FROM notes ORDER BY id");
    const rows = cursor.toArray();
    return { columnNames: cursor.columnNames, rows };
  }

  raw() {
    const cursor = this.sql.exec(
      "SELECT id, title, stars FROM notes WHERE stars >= ? ORDER BY stars DESC, id",
      1,
    );
    const rows = [...cursor.raw()];
    return { columnNames: cursor.columnNames, rows };
  }

  iterate() {
    // Reads a cursor lazily, a row at a time, with next() and for-of.
    const cursor = this.sql.exec<Note>("SELECT title FROM notes ORDER BY title LIMIT 3");
    const first = cursor.next();
    const rest: string[] = [];
    for (const row of cursor) rest.push(String(row.title));
    const after = cursor.next();
    return { first, rest, after };
  }

  one(sql: string) {
    try {
      return { ok: true, row: this.sql.exec(sql).one() };
    } catch (error) {
      return { ok: false, error: errorInfo(error) };
    }
  }

  update(stars: number, minId: number) {
    const cursor = this.sql.exec(
      "UPDATE notes SET stars = stars + ? WHERE id >= ? RETURNING id, stars",
      stars,
      minId,
    );
    return { columnNames: cursor.columnNames, rows: cursor.toArray() };
  }

  remove(title: string) {
    const cursor = this.sql.exec("DELETE FROM notes WHERE title = ?", title);
    return { columnNames: cursor.columnNames, rows: cursor.toArray() };
  }

  aggregate() {
    return this.sql
      .exec(
        "SELECT count(*) AS n, sum(stars) AS total, avg(stars) AS mean, max(score) AS best, group_concat(title, '|') AS titles FROM (SELECT * FROM notes ORDER BY id)",
      )
      .one();
  }

  types() {
    const cursor = this.sql.exec(
      "SELECT 1 AS int, 1.5 AS real, 'x' AS text, NULL AS nil, x'00ff10' AS blob, 9007199254740991 AS big, ? AS bound_blob, ? AS bound_bool",
      new Uint8Array([1, 2, 3]),
      1,
    );
    const row = cursor.one();
    return Object.fromEntries(
      Object.entries(row).map(([k, v]) => [
        k,
        { type: typeof v, isBuffer: v instanceof ArrayBuffer, value: bytesToArray(v) },
      ]),
    );
  }

  failures() {
    const attempts: Record<string, () => unknown> = {
      duplicate: () => this.sql.exec("INSERT INTO notes (title) VALUES (?)", "alpha"),
      notNull: () => this.sql.exec("INSERT INTO notes (title) VALUES (NULL)"),
      noTable: () => this.sql.exec("SELECT * FROM missing_table"),
      syntax: () => this.sql.exec("SELEKT 1"),
      tooFewBindings: () => this.sql.exec("SELECT ? + ?", 1),
      tooManyBindings: () => this.sql.exec("SELECT ?", 1, 2),
      oneOfNone: () => this.sql.exec("SELECT * FROM notes WHERE id < 0").one(),
      oneOfMany: () => this.sql.exec("SELECT * FROM notes").one(),
      transaction: () => this.sql.exec("BEGIN TRANSACTION"),
      savepoint: () => this.sql.exec("SAVEPOINT sp"),
      bindBoolean: () => this.sql.exec("SELECT ? AS v, typeof(?) AS t", true, true).one(),
      bindUndefined: () => this.sql.exec("SELECT ? AS v, typeof(?) AS t", undefined, undefined).one(),
      bindObject: () => this.sql.exec("SELECT ? AS v, typeof(?) AS t", { a: 1 }, { a: 1 }).one(),
      bindArray: () => this.sql.exec("SELECT ? AS v, typeof(?) AS t", [1, 2], [1, 2]).one(),
      bindBigInt: () => this.sql.exec("SELECT ?", 5n),
      bindInfinity: () => this.sql.exec("SELECT ? AS v, typeof(?) AS t", Infinity, Infinity).one(),
      paramsInEarlierStatement: () => this.sql.exec("SELECT ?; SELECT 2", 1),
      empty: () => this.sql.exec(""),
      kvTable: () => this.sql.exec("SELECT * FROM _cf_KV").toArray(),
    };
    const out: Record<string, unknown> = {};
    for (const [name, attempt] of Object.entries(attempts)) {
      try {
        const result = attempt();
        out[name] = {
          ok: true,
          ...(result !== null && typeof result === "object" && !("columnNames" in result) ? { result } : {}),
        };
      } catch (error) {
        out[name] = { ok: false, ...errorInfo(error) };
      }
    }
    return out;
  }

  multi() {
    // Several statements in one exec: the cursor holds the last one's rows.
    const cursor = this.sql.exec(`
      CREATE TABLE IF NOT EXISTS tags (name TEXT PRIMARY KEY, note_id INTEGER);
      INSERT OR IGNORE INTO tags VALUES ('red', 1), ('blue', 3);
      SELECT name, note_id FROM tags ORDER BY name
    `);
    return { columnNames: cursor.columnNames, rows: cursor.toArray() };
  }

  consumed() {
    // A cursor is read once: a second read sees nothing left.
    const cursor = this.sql.exec("SELECT id FROM notes ORDER BY id LIMIT 2");
    const first = cursor.toArray();
    const second = cursor.toArray();
    const rawCursor = this.sql.exec("SELECT id, title FROM notes ORDER BY id LIMIT 2");
    // workerd's raw() iterator has toArray(); @cloudflare/workers-types types it as a plain iterator.
    const raw = (
      rawCursor.raw() as ReturnType<typeof rawCursor.raw> & { toArray(): SqlStorageValue[][] }
    ).toArray();
    return { first, second, raw, rawColumns: rawCursor.columnNames };
  }

  async withKv() {
    await this.ctx.storage.put("hello", "world");
    return this.sql.exec("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").toArray();
  }

  tables() {
    const rows = this.sql
      .exec(
        "SELECT name, type FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' AND name NOT LIKE '_cf_%' ORDER BY name",
      )
      .toArray();
    return {
      rows,
      databaseSizeIsPositive: this.sql.databaseSize > 0,
      databaseSizeType: typeof this.sql.databaseSize,
    };
  }
}

async function readJson(request: Request): Promise<Record<string, unknown>> {
  const isJson = request.headers.get("content-type")?.startsWith("application/json") ?? false;
  return isJson ? ((await request.json()) as Record<string, unknown>) : {};
}

export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    const url = new URL(request.url);
    const book = env.NOTES.getByName(url.searchParams.get("book") ?? "main");
    const body = await readJson(request);
    switch (url.pathname) {
      case "/add":
        return Response.json(
          await book.add(String(body.title), Number(body.stars ?? 0), (body.score as number | null) ?? null),
        );
      case "/add-many":
        return Response.json(await book.addMany(body.titles as string[]));
      case "/all":
        return Response.json(await book.all());
      case "/raw":
        return Response.json(await book.raw());
      case "/iterate":
        return Response.json(await book.iterate());
      case "/one":
        return Response.json(await book.one(url.searchParams.get("sql") ?? ""));
      case "/update":
        return Response.json(await book.update(Number(body.stars), Number(body.minId)));
      case "/remove":
        return Response.json(await book.remove(String(body.title)));
      case "/aggregate":
        return Response.json(await book.aggregate());
      case "/types":
        return Response.json(await book.types());
      case "/failures":
        return Response.json(await book.failures());
      case "/multi":
        return Response.json(await book.multi());
      case "/consumed":
        return Response.json(await book.consumed());
      case "/with-kv":
        return Response.json(await book.withKv());
      case "/tables":
        return Response.json(await book.tables());
      default:
        return Response.json({ error: "not found" }, { status: 404 });
    }
  },
};
