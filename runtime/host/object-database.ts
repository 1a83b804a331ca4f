import { constants, copyFileSync, existsSync, mkdirSync, renameSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { threadId } from "node:worker_threads";
import type Database from "better-sqlite3";
import { openSqlite } from "../shared/sqlite-native.ts";

/**
 * Opens an object's database (creating it when new): WAL, and no fsync per
 * commit, so a committed write survives the process ending however it ends
 * (not a power cut). `:memory:` for the warm-up object.
 */
export function openObjectDatabase(path: string): Database.Database {
  const seeded = seedDatabase(path);
  try {
    return openWal(path);
  } catch (e) {
    if (!seeded) throw e;
    // The template was bad (a machine that lost it mid-write): this one starts afresh.
    discardSeed(path);
    return openWal(path);
  }
}

function openWal(path: string): Database.Database {
  const db = openSqlite(path);
  try {
    db.pragma("journal_mode = WAL");
    db.pragma("synchronous = NORMAL");
  } catch (e) {
    db.close();
    throw e;
  }
  return db;
}

/**
 * A new object's database file starts as a copy of an empty one already in
 * WAL mode, kept beside the objects' files.
 *
 * Made by SQLite itself, a new database costs three fsyncs before the object
 * runs a line (the rollback journal, its directory and the file, as
 * `journal_mode = WAL` writes the first page), a good part of a cold start on
 * a disk where an fsync takes a millisecond or more. A copy costs none, and
 * what the copy holds is what SQLite would have written: one page, no table,
 * the header saying WAL. The durability the README states (a committed write
 * survives the process however it ends) does not depend on those syncs.
 *
 * The template is made once per folder by SQLite (so it matches the SQLite
 * in use) under a name of its own and renamed into place, so no worker ever
 * copies a half-written one. Its name does not end in `.sqlite`: it is not an
 * object.
 */
export const TEMPLATE_NAME = ".new-object.template";

/** Makes `path` a new empty WAL database, unless it exists (`:memory:` is left alone); true if it did. */
function seedDatabase(path: string): boolean {
  if (path === ":memory:" || existsSync(path)) return false;
  const dir = dirname(path);
  mkdirSync(dir, { recursive: true });
  const template = join(dir, TEMPLATE_NAME);
  if (!existsSync(template)) makeTemplate(template);
  try {
    copyFileSync(template, path, constants.COPYFILE_EXCL);
  } catch (e) {
    // Another worker made the same object's file first: it is as good.
    if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
  }
  return true;
}

/**
 * Called when a database just seeded from the template would not open as
 * one: the template is removed (the next object makes a new one) with the
 * copy, so the caller can create the file afresh.
 */
function discardSeed(path: string): void {
  rmSync(join(dirname(path), TEMPLATE_NAME), { force: true });
  for (const suffix of ["", "-wal", "-shm"]) rmSync(path + suffix, { force: true });
}

function makeTemplate(template: string): void {
  const draft = `${template}.${process.pid}-${threadId}-${Math.random().toString(36).slice(2)}`;
  try {
    const db = openSqlite(draft);
    db.pragma("journal_mode = WAL");
    // Closing checkpoints and removes the -wal and -shm files: the page is in the file.
    db.close();
    renameSync(draft, template);
  } finally {
    for (const suffix of ["", "-wal", "-shm"]) rmSync(draft + suffix, { force: true });
  }
}
