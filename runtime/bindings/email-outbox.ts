import { join } from "node:path";
import type Database from "better-sqlite3";
import { openDatabase } from "../shared/sqlite.ts";
import type { CapturedEmail } from "./send-email.ts";

/**
 * The orchestrator's side of `send_email`: every message a worker sent,
 * kept in `<data>/email.sqlite` (never sent anywhere), newest last. The
 * Inspector lists them; they stay across restarts until the data folder is
 * removed. Only the latest KEPT messages are kept.
 */

const MIGRATIONS = [
  `CREATE TABLE messages (
     seq INTEGER PRIMARY KEY,
     time INTEGER NOT NULL,
     worker TEXT NOT NULL,
     binding TEXT NOT NULL,
     message_id TEXT NOT NULL,
     sender TEXT NOT NULL,
     recipients TEXT NOT NULL,
     subject TEXT,
     form TEXT NOT NULL,
     raw TEXT NOT NULL,
     text TEXT,
     html TEXT,
     attachments TEXT NOT NULL
   );`,
];

const KEPT = 1_000;

/** A captured message as the Inspector lists it. */
export interface EmailSummary {
  seq: number;
  time: number;
  /** The Worker whose code sent it. */
  worker: string;
  binding: string;
  messageId: string;
  from: string;
  to: string[];
  subject: string | null;
  form: CapturedEmail["form"];
  attachments: number;
}

/** One captured message in full. */
export interface EmailDetail extends EmailSummary {
  raw: string;
  text: string | null;
  html: string | null;
  attachmentList: CapturedEmail["attachments"];
}

interface Row {
  seq: number;
  time: number;
  worker: string;
  binding: string;
  message_id: string;
  sender: string;
  recipients: string;
  subject: string | null;
  form: string;
  raw: string;
  text: string | null;
  html: string | null;
  attachments: string;
}

function summary(r: Row): EmailSummary {
  return {
    seq: r.seq,
    time: r.time,
    worker: r.worker,
    binding: r.binding,
    messageId: r.message_id,
    from: r.sender,
    to: JSON.parse(r.recipients) as string[],
    subject: r.subject,
    form: r.form as CapturedEmail["form"],
    attachments: (JSON.parse(r.attachments) as unknown[]).length,
  };
}

export class EmailOutbox {
  readonly #db: Database.Database;
  readonly #s;

  constructor(dataDir: string) {
    this.#db = openDatabase(join(dataDir, "email.sqlite"), MIGRATIONS);
    const db = this.#db;
    this.#s = {
      insert: db.prepare<
        [
          number,
          string,
          string,
          string,
          string,
          string,
          string | null,
          string,
          string,
          string | null,
          string | null,
          string,
        ]
      >(
        "INSERT INTO messages (time, worker, binding, message_id, sender, recipients, subject, form, raw, text, html, attachments) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
      ),
      trim: db.prepare<[number]>(
        "DELETE FROM messages WHERE seq <= (SELECT seq FROM messages ORDER BY seq DESC LIMIT 1 OFFSET ?)",
      ),
      list: db.prepare<[number], Row>("SELECT * FROM messages ORDER BY seq DESC LIMIT ?"),
      get: db.prepare<[number], Row>("SELECT * FROM messages WHERE seq = ?"),
      clear: db.prepare("DELETE FROM messages"),
    };
  }

  /** Keeps a message a worker of `worker` sent; resolves once it is on disk. */
  add(worker: string, time: number, m: CapturedEmail): number {
    return this.#db.transaction(() => {
      const seq = Number(
        this.#s.insert.run(
          time,
          worker,
          m.binding,
          m.messageId,
          m.from,
          JSON.stringify(m.to),
          m.subject,
          m.form,
          m.raw,
          m.text,
          m.html,
          JSON.stringify(m.attachments),
        ).lastInsertRowid,
      );
      this.#s.trim.run(KEPT);
      return seq;
    })();
  }

  /** The latest messages, newest first. */
  list(limit = 200): EmailSummary[] {
    return this.#s.list.all(Math.max(1, Math.min(limit, KEPT))).map(summary);
  }

  get(seq: number): EmailDetail | null {
    const r = this.#s.get.get(seq);
    if (!r) return null;
    return {
      ...summary(r),
      raw: r.raw,
      text: r.text,
      html: r.html,
      attachmentList: JSON.parse(r.attachments) as CapturedEmail["attachments"],
    };
  }

  /** Forgets every captured message. */
  clear(): void {
    this.#s.clear.run();
  }

  close(): void {
    this.#db.close();
  }
}
