import { join } from "node:path";
import type { Project } from "../config/project.ts";

/**
 * Where the project's D1 databases and R2 buckets live in the data
 * directory. The engine hands these paths to the workers that bind them and
 * the control API reads the same files for the Inspector, so both go
 * through here.
 */

/** A file or folder name for a D1 database or R2 bucket in the data directory. */
function storeName(name: string): string {
  return name.replace(/[^A-Za-z0-9._-]/g, "_");
}

export interface D1Store {
  binding: string;
  /** database_name, else database_id, else the binding. */
  name: string;
  /** The SQLite file (it exists once an object has used the database). */
  path: string;
}

export interface R2Store {
  binding: string;
  /** bucket_name, else the binding. */
  name: string;
  /** The bucket's folder: index.sqlite and blobs/. */
  path: string;
}

export function d1Stores(project: Project, dataDir: string): D1Store[] {
  return (project.wrangler.raw.d1_databases ?? []).map((d) => {
    const name = d.database_name ?? d.database_id ?? d.binding;
    return { binding: d.binding, name, path: join(dataDir, "d1", `${storeName(name)}.sqlite`) };
  });
}

export function r2Stores(project: Project, dataDir: string): R2Store[] {
  return (project.wrangler.raw.r2_buckets ?? []).map((r) => {
    const name = r.bucket_name ?? r.binding;
    return { binding: r.binding, name, path: join(dataDir, "r2", storeName(name)) };
  });
}

/** A row of the bucket's index (`objects` in index.sqlite): an object's metadata. */
export interface R2IndexRow {
  key: string;
  version: string;
  size: number;
  etag: string;
  uploaded: number;
  http_metadata: string;
  custom_metadata: string;
}

/** The bucket's index database in its folder. */
export function r2IndexPath(dir: string): string {
  return join(dir, "index.sqlite");
}
