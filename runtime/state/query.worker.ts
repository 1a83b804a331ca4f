import { openSqlite } from "../shared/sqlite-native.ts";
import { runQuery } from "../shared/sql-query.ts";
import type { QueryJob, QueryReply } from "./bounded-query.ts";

// The Inspector's SQL statements, in a process of its own so that one that
// never ends can be killed (see bounded-query.ts). One at a time, in order.
process.on("message", (job: QueryJob) => {
  let reply: QueryReply;
  try {
    const db = openSqlite(job.path, { readonly: true, fileMustExist: true });
    try {
      db.pragma("busy_timeout = 5000");
      reply = { id: job.id, ok: true, result: runQuery(db, job.sql, job.params, { limit: job.limit }) };
    } finally {
      db.close();
    }
  } catch (e) {
    reply = { id: job.id, ok: false, message: e instanceof Error ? e.message : String(e) };
  }
  process.send!(reply);
});
process.on("disconnect", () => process.exit(0));
