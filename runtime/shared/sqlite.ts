import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import Database from "better-sqlite3";
import { openSqlite } from "./sqlite-native.ts";

/**
 * Opens (creating) an orchestrator database in WAL mode and brings its schema
 * up to date: `migrations[i]` moves user_version i to i+1, in one transaction.
 */
export function openDatabase(path: string, migrations: readonly string[]): Database.Database {
  mkdirSync(dirname(path), { recursive: true });
  const db = openSqlite(path);
  db.pragma("journal_mode = WAL");
  db.pragma("synchronous = NORMAL");
  db.pragma("busy_timeout = 5000");
  const version = db.pragma("user_version", { simple: true }) as number;
  if (version > migrations.length) {
    db.close();
    throw new Error(`${path} was written by a newer Terrarium (schema ${version}); refusing to open it`);
  }
  db.transaction(() => {
    for (let v = version; v < migrations.length; v++) {
      db.exec(migrations[v]!);
    }
    db.pragma(`user_version = ${migrations.length}`);
  })();
  return db;
}
