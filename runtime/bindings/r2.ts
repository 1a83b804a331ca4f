import { createHash, randomBytes } from "node:crypto";
import { closeSync, mkdirSync, openSync, readSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";
import { openSqlite } from "../shared/sqlite-native.ts";
import { r2IndexPath, type R2IndexRow } from "./stores.ts";

/**
 * An R2 bucket binding on the local disk, for `env.<binding>` in object and
 * entry workers: each object's bytes in a file under `<dir>/blobs/`, its
 * metadata in `<dir>/index.sqlite`, shared by every worker that binds the
 * bucket. The API and the shapes it returns are R2's as workerd gives them:
 * put/get (with ranges and conditions)/head/list (prefix, cursor,
 * delimiter, include)/delete, HTTP and custom metadata, md5 etags.
 */

export interface R2HTTPMetadata {
  contentType?: string;
  contentLanguage?: string;
  contentDisposition?: string;
  contentEncoding?: string;
  cacheControl?: string;
  cacheExpiry?: Date;
}

export interface R2Range {
  offset?: number;
  length?: number;
  suffix?: number;
}

interface Conditional {
  etagMatches?: string;
  etagDoesNotMatch?: string;
  uploadedBefore?: Date;
  uploadedAfter?: Date;
}

const HTTP_FIELDS: [keyof R2HTTPMetadata, string][] = [
  ["contentType", "content-type"],
  ["contentLanguage", "content-language"],
  ["contentDisposition", "content-disposition"],
  ["contentEncoding", "content-encoding"],
  ["cacheControl", "cache-control"],
];

function r2Error(op: string, message: string, code: number): Error {
  return new Error(`${op}: ${message} (${code})`);
}

export class R2Checksums {
  readonly md5?: ArrayBuffer;
  constructor(md5Hex: string) {
    const bytes = Buffer.from(md5Hex, "hex");
    this.md5 = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  }
  toJSON(): Record<string, string> {
    return this.md5 ? { md5: Buffer.from(this.md5).toString("hex") } : {};
  }
}

export class R2Object {
  readonly key: string;
  readonly version: string;
  readonly size: number;
  readonly etag: string;
  readonly httpEtag: string;
  readonly uploaded: Date;
  readonly httpMetadata: R2HTTPMetadata;
  readonly customMetadata: Record<string, string>;
  readonly range: { offset: number; length: number } | undefined;
  readonly checksums: R2Checksums;
  readonly storageClass = "Standard";

  constructor(
    row: R2IndexRow,
    opts: { include?: { http: boolean; custom: boolean }; range?: R2Object["range"] } = {},
  ) {
    this.key = row.key;
    this.version = row.version;
    this.size = row.size;
    this.etag = row.etag;
    this.httpEtag = `"${row.etag}"`;
    this.uploaded = new Date(row.uploaded);
    const http = JSON.parse(row.http_metadata) as R2HTTPMetadata & { cacheExpiry?: string | Date };
    if (typeof http.cacheExpiry === "string") http.cacheExpiry = new Date(http.cacheExpiry);
    const include = opts.include ?? { http: true, custom: true };
    // list() gives what its `include` leaves out as empty objects.
    this.httpMetadata = include.http ? (http as R2HTTPMetadata) : {};
    this.customMetadata = include.custom ? (JSON.parse(row.custom_metadata) as Record<string, string>) : {};
    this.range = opts.range;
    this.checksums = new R2Checksums(row.etag);
  }

  /** Sets the object's HTTP metadata as response headers. */
  writeHttpMetadata(headers: Headers): void {
    const http = this.httpMetadata ?? {};
    for (const [field, header] of HTTP_FIELDS) {
      const v = http[field];
      if (typeof v === "string") headers.set(header, v);
    }
    if (http.cacheExpiry) headers.set("expires", http.cacheExpiry.toUTCString());
  }
}

export class R2ObjectBody extends R2Object {
  readonly #bytes: Uint8Array;
  #used = false;

  constructor(row: R2IndexRow, bytes: Uint8Array, range: R2Object["range"]) {
    super(row, { range });
    this.#bytes = bytes;
  }

  get body(): ReadableStream<Uint8Array> {
    const bytes = this.#take();
    return new ReadableStream({
      start(controller) {
        if (bytes.byteLength > 0) controller.enqueue(bytes);
        controller.close();
      },
    });
  }

  get bodyUsed(): boolean {
    return this.#used;
  }

  #take(): Uint8Array {
    if (this.#used) throw new TypeError("Body has already been used. It can only be used once.");
    this.#used = true;
    return this.#bytes;
  }

  async arrayBuffer(): Promise<ArrayBuffer> {
    const b = this.#take();
    return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
  }
  async bytes(): Promise<Uint8Array> {
    return new Uint8Array(this.#take());
  }
  async text(): Promise<string> {
    return new TextDecoder().decode(this.#take());
  }
  async json<T>(): Promise<T> {
    return JSON.parse(await this.text()) as T;
  }
  async blob(): Promise<Blob> {
    return new Blob(
      [this.#take()],
      this.httpMetadata?.contentType ? { type: this.httpMetadata.contentType } : {},
    );
  }
}

async function toBytes(value: unknown): Promise<Uint8Array> {
  if (value === null || value === undefined) return new Uint8Array();
  if (typeof value === "string") return new TextEncoder().encode(value);
  if (value instanceof ArrayBuffer) return new Uint8Array(value);
  if (ArrayBuffer.isView(value)) return new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
  if (value instanceof Blob) return new Uint8Array(await value.arrayBuffer());
  if (value instanceof ReadableStream) return new Uint8Array(await new Response(value).arrayBuffer());
  throw new TypeError(
    "put: the value must be a ReadableStream, ArrayBuffer, ArrayBufferView, string, Blob or null.",
  );
}

function httpMetadataOf(input: unknown): R2HTTPMetadata {
  if (!input) return {};
  const out: R2HTTPMetadata = {};
  if (input instanceof Headers) {
    for (const [field, header] of HTTP_FIELDS) {
      const v = input.get(header);
      if (v !== null) (out as Record<string, string>)[field] = v;
    }
    const expires = input.get("expires");
    if (expires !== null) out.cacheExpiry = new Date(expires);
    return out;
  }
  const o = input as R2HTTPMetadata;
  for (const [field] of HTTP_FIELDS) {
    const v = o[field];
    if (typeof v === "string") (out as Record<string, string>)[field] = v;
  }
  if (o.cacheExpiry !== undefined) out.cacheExpiry = new Date(o.cacheExpiry);
  return out;
}

function conditionOf(input: unknown): Conditional | null {
  if (!input) return null;
  if (input instanceof Headers) {
    const c: Conditional = {};
    const unquote = (v: string): string => v.trim().replace(/^W\//, "").replace(/^"|"$/g, "");
    const ifMatch = input.get("if-match");
    if (ifMatch !== null) c.etagMatches = unquote(ifMatch);
    const ifNone = input.get("if-none-match");
    if (ifNone !== null) c.etagDoesNotMatch = unquote(ifNone);
    const since = input.get("if-modified-since");
    if (since !== null) c.uploadedAfter = new Date(since);
    const unmodified = input.get("if-unmodified-since");
    if (unmodified !== null) c.uploadedBefore = new Date(unmodified);
    return c;
  }
  return input as Conditional;
}

function passes(row: R2IndexRow | undefined, c: Conditional | null): boolean {
  if (!c) return true;
  const strip = (e: string): string => e.replace(/^"|"$/g, "");
  if (
    c.etagMatches !== undefined &&
    (!row || (strip(c.etagMatches) !== "*" && strip(c.etagMatches) !== row.etag))
  )
    return false;
  if (
    c.etagDoesNotMatch !== undefined &&
    row &&
    (strip(c.etagDoesNotMatch) === "*" || strip(c.etagDoesNotMatch) === row.etag)
  )
    return false;
  if (c.uploadedBefore !== undefined && row && !(row.uploaded < new Date(c.uploadedBefore).getTime()))
    return false;
  if (c.uploadedAfter !== undefined && row && !(row.uploaded > new Date(c.uploadedAfter).getTime()))
    return false;
  return true;
}

function checkKey(op: string, key: unknown): string {
  const k = String(key);
  if (Buffer.byteLength(k) > 1024) throw r2Error(op, "The specified object name is not valid.", 10020);
  return k;
}

export class R2Bucket {
  readonly #dir: string;
  #db: Database.Database | null = null;
  #stmts: ReturnType<typeof statements> | null = null;

  constructor(dir: string) {
    this.#dir = dir;
  }

  get #s(): ReturnType<typeof statements> {
    if (!this.#stmts) {
      mkdirSync(join(this.#dir, "blobs"), { recursive: true });
      const db = openSqlite(r2IndexPath(this.#dir));
      db.pragma("journal_mode = WAL");
      db.pragma("busy_timeout = 5000");
      db.exec(`CREATE TABLE IF NOT EXISTS objects (
        key TEXT PRIMARY KEY,
        version TEXT NOT NULL,
        size INTEGER NOT NULL,
        etag TEXT NOT NULL,
        uploaded INTEGER NOT NULL,
        http_metadata TEXT NOT NULL,
        custom_metadata TEXT NOT NULL
      ) WITHOUT ROWID`);
      this.#db = db;
      this.#stmts = statements(db);
    }
    return this.#stmts;
  }

  #blob(version: string): string {
    return join(this.#dir, "blobs", version);
  }

  async head(key: string): Promise<R2Object | null> {
    const row = this.#s.get.get(checkKey("head", key));
    return row ? new R2Object(row, { range: { offset: 0, length: row.size } }) : null;
  }

  async get(
    key: string,
    options: { onlyIf?: Conditional | Headers; range?: R2Range | Headers } = {},
  ): Promise<R2ObjectBody | R2Object | null> {
    const row = this.#s.get.get(checkKey("get", key));
    if (!row) return null;
    if (!passes(row, conditionOf(options.onlyIf))) {
      return new R2Object(row, { range: { offset: 0, length: row.size } });
    }
    const range = this.#range(row.size, options.range);
    const length = range ? range.length : row.size;
    const offset = range ? range.offset : 0;
    const bytes = new Uint8Array(length);
    if (length > 0) {
      const fd = openSync(this.#blob(row.version), "r");
      try {
        readSync(fd, bytes, 0, length, offset);
      } finally {
        closeSync(fd);
      }
    }
    return new R2ObjectBody(row, bytes, range ?? { offset: 0, length: row.size });
  }

  #range(size: number, input: R2Range | Headers | undefined): { offset: number; length: number } | null {
    if (!input) return null;
    let r: R2Range;
    if (input instanceof Headers) {
      const header = input.get("range");
      if (header === null) return null;
      const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
      if (!m) throw r2Error("get", "The requested range is not satisfiable", 10039);
      if (m[1] === "") r = { suffix: Number(m[2]) };
      else r = { offset: Number(m[1]), ...(m[2] !== "" ? { length: Number(m[2]) - Number(m[1]) + 1 } : {}) };
    } else {
      r = input;
    }
    if (r.suffix !== undefined) {
      const length = Math.min(r.suffix, size);
      return { offset: size - length, length };
    }
    const offset = r.offset ?? 0;
    if (offset > size || (r.length !== undefined && r.length < 0)) {
      throw r2Error("get", "The requested range is not satisfiable", 10039);
    }
    return { offset, length: Math.min(r.length ?? size - offset, size - offset) };
  }

  async put(
    key: string,
    value: unknown,
    options: {
      httpMetadata?: R2HTTPMetadata | Headers;
      customMetadata?: Record<string, string>;
      onlyIf?: Conditional | Headers;
      md5?: ArrayBuffer | string;
    } = {},
  ): Promise<R2Object | null> {
    const k = checkKey("put", key);
    const bytes = await toBytes(value);
    const etag = createHash("md5").update(bytes).digest("hex");
    if (options.md5 !== undefined) {
      const want = typeof options.md5 === "string" ? options.md5 : Buffer.from(options.md5).toString("hex");
      if (want !== etag)
        throw r2Error("put", "The Content-MD5 you specified did not match what we received.", 10037);
    }
    if (!passes(this.#s.get.get(k), conditionOf(options.onlyIf))) return null;
    const version = randomBytes(16).toString("hex");
    const tmp = `${this.#blob(version)}.tmp`;
    writeFileSync(tmp, bytes);
    renameSync(tmp, this.#blob(version));
    const custom: Record<string, string> = {};
    for (const [name, v] of Object.entries(options.customMetadata ?? {})) custom[name] = String(v);
    const row: R2IndexRow = {
      key: k,
      version,
      size: bytes.byteLength,
      etag,
      uploaded: Date.now(),
      http_metadata: JSON.stringify(httpMetadataOf(options.httpMetadata)),
      custom_metadata: JSON.stringify(custom),
    };
    const previous = this.#db!.transaction(() => {
      const old = this.#s.get.get(k);
      this.#s.put.run(row);
      return old;
    })();
    if (previous) rmSync(this.#blob(previous.version), { force: true });
    return new R2Object(row);
  }

  async delete(keys: string | string[]): Promise<void> {
    const list = (Array.isArray(keys) ? keys : [keys]).map((k) => checkKey("delete", k));
    const s = this.#s;
    const gone = this.#db!.transaction(() =>
      list.flatMap((k) => {
        const old = s.get.get(k);
        s.delete.run(k);
        return old ? [old.version] : [];
      }),
    )();
    for (const v of gone) rmSync(this.#blob(v), { force: true });
  }

  async list(
    options: {
      limit?: number;
      prefix?: string;
      cursor?: string;
      delimiter?: string;
      startAfter?: string;
      include?: ("httpMetadata" | "customMetadata")[];
    } = {},
  ): Promise<{ objects: R2Object[]; truncated: boolean; cursor?: string; delimitedPrefixes: string[] }> {
    const limit = options.limit ?? 1000;
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000) {
      throw r2Error("list", "MaxKeys params must be positive integer <= 1000.", 10022);
    }
    const prefix = options.prefix ?? "";
    let after = options.startAfter ?? "";
    if (options.cursor) after = Buffer.from(options.cursor, "base64url").toString("utf8");
    const include = {
      http: options.include?.includes("httpMetadata") ?? false,
      custom: options.include?.includes("customMetadata") ?? false,
    };
    const objects: R2Object[] = [];
    const prefixes = new Set<string>();
    let last = after;
    let truncated = false;
    // Walk keys in order; a delimiter folds keys into prefixes, each counting once against the limit.
    for (const row of this.#s.after.iterate(after, prefix)) {
      if (!row.key.startsWith(prefix)) break;
      let folded: string | null = null;
      if (options.delimiter) {
        const rest = row.key.slice(prefix.length);
        const i = rest.indexOf(options.delimiter);
        if (i >= 0) folded = prefix + rest.slice(0, i + options.delimiter.length);
      }
      if (folded !== null && prefixes.has(folded)) continue;
      if (objects.length + prefixes.size >= limit) {
        truncated = true;
        break;
      }
      if (folded !== null) {
        prefixes.add(folded);
        // The next page starts after every key under this prefix.
        last = `${folded}\u{10FFFF}`;
      } else {
        objects.push(new R2Object(row, { include }));
        last = row.key;
      }
    }
    return {
      objects,
      truncated,
      ...(truncated ? { cursor: Buffer.from(last, "utf8").toString("base64url") } : {}),
      delimitedPrefixes: [...prefixes],
    };
  }
}

function statements(db: Database.Database) {
  return {
    get: db.prepare<[string], R2IndexRow>("SELECT * FROM objects WHERE key = ?"),
    put: db.prepare<[R2IndexRow]>(
      `INSERT INTO objects (key, version, size, etag, uploaded, http_metadata, custom_metadata)
       VALUES (@key, @version, @size, @etag, @uploaded, @http_metadata, @custom_metadata)
       ON CONFLICT(key) DO UPDATE SET version = excluded.version, size = excluded.size, etag = excluded.etag,
         uploaded = excluded.uploaded, http_metadata = excluded.http_metadata, custom_metadata = excluded.custom_metadata`,
    ),
    delete: db.prepare<[string]>("DELETE FROM objects WHERE key = ?"),
    after: db.prepare<[string, string], R2IndexRow>(
      "SELECT * FROM objects WHERE key > ? AND key >= ? ORDER BY key",
    ),
  };
}
