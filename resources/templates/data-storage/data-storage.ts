import { DurableObject } from "cloudflare:workers";

/**
 * Data Storage: one object per user id. Records live in the object's own
 * SQLite database; files go to the storage service (the R2 bucket) under
 * `users/<userId>/`, with their metadata kept here. Every change is
 * published on the Event Bus (`record.created`, `record.deleted`,
 * `file.uploaded`).
 */

interface Env {
  FILES: R2Bucket;
  EVENTS: { publish(topic: string, data: unknown): Promise<{ id: number }> };
}

export interface DataRecord {
  id: number;
  title: string;
  body: string;
}

export interface FileInfo {
  name: string;
  size: number;
  contentType: string;
  etag: string;
}

const MAX_FILE_BYTES = 10 * 1024 * 1024;

export function fileKey(userId: string, name: string): string {
  return `users/${userId}/${name}`;
}

export class DataStore extends DurableObject<Env> {
  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    ctx.storage.sql.exec(`
      CREATE TABLE IF NOT EXISTS records (id INTEGER PRIMARY KEY AUTOINCREMENT, title TEXT NOT NULL, body TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS files (name TEXT PRIMARY KEY, size INTEGER NOT NULL, content_type TEXT NOT NULL, etag TEXT NOT NULL);`);
  }

  async addRecord(
    userId: string,
    input: { title?: unknown; body?: unknown },
  ): Promise<DataRecord | { error: string }> {
    if (typeof input.title !== "string" || input.title.trim() === "") return { error: "a title is required" };
    const body = typeof input.body === "string" ? input.body : "";
    const record = this.ctx.storage.sql
      .exec<{ id: number; title: string; body: string }>(
        "INSERT INTO records (title, body) VALUES (?, ?) RETURNING id, title, body",
        input.title.trim(),
        body,
      )
      .one();
    await this.env.EVENTS.publish("record.created", { userId, recordId: record.id, title: record.title });
    return record;
  }

  records(): DataRecord[] {
    return this.ctx.storage.sql
      .exec<{ id: number; title: string; body: string }>("SELECT * FROM records ORDER BY id")
      .toArray();
  }

  async deleteRecord(userId: string, id: number): Promise<boolean> {
    const gone = this.ctx.storage.sql.exec("DELETE FROM records WHERE id = ? RETURNING id", id).toArray();
    if (gone.length > 0) await this.env.EVENTS.publish("record.deleted", { userId, recordId: id });
    return gone.length > 0;
  }

  async putFile(
    userId: string,
    name: string,
    bytes: ArrayBuffer,
    contentType: string,
  ): Promise<FileInfo | { error: string }> {
    if (!/^[\w.-]{1,100}$/.test(name)) return { error: "file names are letters, digits, '.', '-' and '_'" };
    if (bytes.byteLength > MAX_FILE_BYTES) return { error: "files are at most 10 MB" };
    const object = await this.env.FILES.put(fileKey(userId, name), bytes, {
      httpMetadata: { contentType },
      customMetadata: { owner: userId },
    });
    const info: FileInfo = { name, size: object.size, contentType, etag: object.etag };
    this.ctx.storage.sql.exec(
      "INSERT OR REPLACE INTO files (name, size, content_type, etag) VALUES (?, ?, ?, ?)",
      info.name,
      info.size,
      info.contentType,
      info.etag,
    );
    await this.env.EVENTS.publish("file.uploaded", { userId, name, size: info.size });
    return info;
  }

  files(): FileInfo[] {
    return this.ctx.storage.sql
      .exec<{ name: string; size: number; content_type: string; etag: string }>(
        "SELECT * FROM files ORDER BY name",
      )
      .toArray()
      .map((f) => ({ name: f.name, size: f.size, contentType: f.content_type, etag: f.etag }));
  }
}
