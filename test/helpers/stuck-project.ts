import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";

/**
 * A project whose objects can be made to never answer, for stopping tests
 * and the stop bench: `Store` keeps writes (a SQL row and a storage.put)
 * and can spin forever; `Gate` blocks itself forever in
 * blockConcurrencyWhile; `Room` holds a hibernatable WebSocket. Before it
 * spins or blocks, an object writes a row in its `marks` table, which a
 * test reads from the object's SQLite file to know the request got there.
 *
 *   POST /store/<name>/write?v=V   SQL row (v) and storage.put("v", V); 200 once both are stored
 *   GET  /store/<name>/read        {"rows":[...],"kv":V}
 *   GET  /store/<name>/spin        marks "spinning", then for (;;) {}
 *   GET  /gate/<name>/block        marks "blocked", then blockConcurrencyWhile(() => a promise that never settles)
 *   GET  /room/<name>              a WebSocket (upgrade), echoing messages
 */
const SOURCE = `import { DurableObject } from "cloudflare:workers";

export class Store extends DurableObject {
  constructor(ctx, env) {
    super(ctx, env);
    ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS writes (v TEXT NOT NULL)");
    ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS marks (what TEXT NOT NULL)");
  }
  async fetch(request) {
    const url = new URL(request.url);
    const action = url.pathname.split("/")[3];
    if (action === "write") {
      const v = url.searchParams.get("v") ?? "";
      this.ctx.storage.sql.exec("INSERT INTO writes (v) VALUES (?)", v);
      await this.ctx.storage.put("v", v);
      return Response.json({ stored: v });
    }
    if (action === "read") {
      const rows = this.ctx.storage.sql.exec("SELECT v FROM writes ORDER BY rowid").toArray().map((r) => r.v);
      return Response.json({ rows, kv: (await this.ctx.storage.get("v")) ?? null });
    }
    if (action === "spin") {
      this.ctx.storage.sql.exec("INSERT INTO marks (what) VALUES ('spinning')");
      // The mark commits when the turn ends (workerd's write coalescing): end it before spinning.
      await this.ctx.storage.sync();
      for (;;) {}
    }
    return new Response("no such action", { status: 404 });
  }
}

export class Gate extends DurableObject {
  async fetch() {
    this.ctx.storage.sql.exec("CREATE TABLE IF NOT EXISTS marks (what TEXT NOT NULL)");
    this.ctx.storage.sql.exec("INSERT INTO marks (what) VALUES ('blocked')");
    await this.ctx.blockConcurrencyWhile(() => new Promise(() => {}));
    return new Response("unreachable");
  }
}

export class Room extends DurableObject {
  async fetch() {
    const pair = new WebSocketPair();
    this.ctx.acceptWebSocket(pair[1]);
    return new Response(null, { status: 101, webSocket: pair[0] });
  }
  webSocketMessage(ws, message) {
    ws.send(message);
  }
}

export default {
  async fetch(request, env) {
    const [, kind, name] = new URL(request.url).pathname.split("/");
    const ns = kind === "store" ? env.STORE : kind === "gate" ? env.GATE : kind === "room" ? env.ROOM : null;
    if (!ns || !name) return new Response("not found", { status: 404 });
    return ns.getByName(name).fetch(request);
  },
};
`;

const WRANGLER = {
  name: "stuck",
  main: "src/index.js",
  compatibility_date: "2025-04-01",
  durable_objects: {
    bindings: [
      { name: "STORE", class_name: "Store" },
      { name: "GATE", class_name: "Gate" },
      { name: "ROOM", class_name: "Room" },
    ],
  },
  migrations: [{ tag: "v1", new_sqlite_classes: ["Store", "Gate", "Room"] }],
};

/** True once an object of `className` under `dataDir` has written the mark `what` (see above). */
export function marked(dataDir: string, className: string, what: string): boolean {
  const dir = join(dataDir, "objects", className);
  if (!existsSync(dir)) return false;
  for (const file of readdirSync(dir).filter((f) => f.endsWith(".sqlite"))) {
    let db: Database.Database | null = null;
    try {
      db = new Database(join(dir, file), { readonly: true, fileMustExist: true });
      const has = db.prepare("SELECT 1 FROM sqlite_master WHERE name = 'marks'").get();
      if (has && db.prepare("SELECT 1 FROM marks WHERE what = ?").get(what)) return true;
    } catch (e) {
      // The object is still creating its file (not in WAL mode yet, or busy): not marked yet.
      if (!(e instanceof Database.SqliteError)) throw e;
    } finally {
      db?.close();
    }
  }
  return false;
}

/** Writes the project in a fresh temp folder, with a data folder beside it; `cleanup` removes both. */
export function stuckProject(): { dir: string; dataDir: string; cleanup: () => void } {
  const root = mkdtempSync(join(tmpdir(), "terrarium-stop-"));
  const dir = join(root, "project");
  mkdirSync(join(dir, "src"), { recursive: true });
  writeFileSync(join(dir, "wrangler.json"), JSON.stringify(WRANGLER, null, 2));
  writeFileSync(join(dir, "src", "index.js"), SOURCE);
  return { dir, dataDir: join(root, "data"), cleanup: () => rmSync(root, { recursive: true, force: true }) };
}
