import { join } from "node:path";
import type { Project } from "../config/project.ts";
import { REMOTE_ONLY_KINDS, type RemoteOnlyKind, type RemoteOnlySpec } from "./remote-only.ts";

/**
 * Where the project's D1 databases, R2 buckets and KV namespaces live in the data
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

export function d1Stores(project: Pick<Project, "wrangler">, dataDir: string): D1Store[] {
  return (project.wrangler.raw.d1_databases ?? []).map((d) => {
    const name = d.database_name ?? d.database_id ?? d.binding;
    return { binding: d.binding, name, path: join(dataDir, "d1", `${storeName(name)}.sqlite`) };
  });
}

export function r2Stores(project: Pick<Project, "wrangler">, dataDir: string): R2Store[] {
  return (project.wrangler.raw.r2_buckets ?? []).map((r) => {
    const name = r.bucket_name ?? r.binding;
    return { binding: r.binding, name, path: join(dataDir, "r2", storeName(name)) };
  });
}

export interface KVStore {
  binding: string;
  /** The namespace's id, else the binding. */
  name: string;
  /** The SQLite file holding the namespace's keys. */
  path: string;
}

export function kvStores(project: Pick<Project, "wrangler">, dataDir: string): KVStore[] {
  return (project.wrangler.raw.kv_namespaces ?? []).map((k) => {
    const name = k.id ?? k.binding;
    return { binding: k.binding, name, path: join(dataDir, "kv", `${storeName(name)}.sqlite`) };
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

/** The project's bindings that run only on Cloudflare (see remote-only.ts). */
export function remoteOnlyBindings(project: Pick<Project, "wrangler">): RemoteOnlySpec[] {
  const raw = project.wrangler.raw as Record<string, unknown>;
  const out: RemoteOnlySpec[] = [];
  for (const kind of Object.keys(REMOTE_ONLY_KINDS) as RemoteOnlyKind[]) {
    const value = raw[kind];
    const list = Array.isArray(value) ? value : value && typeof value === "object" ? [value] : [];
    for (const b of list) {
      const binding = (b as { binding?: unknown }).binding;
      if (typeof binding === "string" && binding !== "") out.push({ binding, kind });
    }
  }
  return out;
}
