/**
 * SQLite text as workerd reads it: its error messages (with the offset of
 * the offending token), statement splitting and `?NNN` parameters. Shared by
 * `ctx.storage.sql` (host/) and D1 (bindings/).
 */

/** Where `name` first stands as a whole identifier in `sql`, case-insensitively (-1: nowhere). */
function tokenOffset(sql: string, name: string): number {
  const escaped = name.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  const m = new RegExp(`(?<![A-Za-z0-9_$])${escaped}(?![A-Za-z0-9_$])`, "i").exec(sql);
  return m ? m.index : -1;
}

/** SQLite's message, with workerd's suffix naming the result code. */
export function toSqlError(e: unknown, sql?: string): Error {
  if (e instanceof Error && e.name === "SqliteError") {
    const code = (e as Error & { code?: string }).code ?? "SQLITE_ERROR";
    const primary = code.split("_").slice(0, 2).join("_");
    let message = e.message;
    // workerd reports where a syntax error is; better-sqlite3 does not, so find the token.
    const near = /^near "(.*)": syntax error$/.exec(message);
    if (near && sql !== undefined && sql.includes(near[1]!)) message += ` at offset ${sql.indexOf(near[1]!)}`;
    // ... and where an unknown column is named (SQLite's error offset).
    const column = /^no such column: (.+)$/.exec(message);
    if (column && sql !== undefined) {
      const at = tokenOffset(sql, column[1]!);
      if (at >= 0) message = `no such column: ${column[1]} at offset ${at}`;
    }
    return new Error(primary === code ? `${message}: ${code}` : `${message}: ${primary} (extended: ${code})`);
  }
  return e instanceof Error ? e : new Error(String(e));
}

export interface Token {
  kind: "placeholder" | "word" | "semicolon";
  start: number;
  end: number;
  text: string;
}

/** Tokens outside strings and comments that matter to exec(): placeholders, words, semicolons. */
export function scan(sql: string): Token[] {
  const out: Token[] = [];
  const n = sql.length;
  let i = 0;
  while (i < n) {
    const c = sql[i]!;
    if (c === "'" || c === '"' || c === "`") {
      i++;
      while (i < n) {
        if (sql[i] === c) {
          if (sql[i + 1] === c) i += 2;
          else break;
        } else i++;
      }
      i++;
    } else if (c === "[") {
      while (i < n && sql[i] !== "]") i++;
      i++;
    } else if (c === "-" && sql[i + 1] === "-") {
      while (i < n && sql[i] !== "\n") i++;
    } else if (c === "/" && sql[i + 1] === "*") {
      const end = sql.indexOf("*/", i + 2);
      i = end < 0 ? n : end + 2;
    } else if (c === "?") {
      let j = i + 1;
      while (j < n && /[0-9]/.test(sql[j]!)) j++;
      out.push({ kind: "placeholder", start: i, end: j, text: sql.slice(i, j) });
      i = j;
    } else if (/[A-Za-z_]/.test(c)) {
      let j = i;
      while (j < n && /[A-Za-z0-9_$]/.test(sql[j]!)) j++;
      out.push({ kind: "word", start: i, end: j, text: sql.slice(i, j) });
      i = j;
    } else if (c === ";") {
      out.push({ kind: "semicolon", start: i, end: i + 1, text: ";" });
      i++;
    } else i++;
  }
  return out;
}

/** Splits a multi-statement SQL string on top-level semicolons (not inside CREATE TRIGGER ... END). */
export function splitStatements(sql: string): string[] {
  const out: string[] = [];
  let start = 0;
  let trigger = false;
  let depth = 0;
  const push = (end: number): void => {
    const text = sql.slice(start, end).trim();
    if (text.replace(/--[^\n]*|\/\*[\s\S]*?\*\//g, "").trim()) out.push(text);
  };
  for (const t of scan(sql)) {
    if (t.kind === "word") {
      const w = t.text.toUpperCase();
      if (w === "TRIGGER") trigger = true;
      else if (w === "BEGIN" && trigger) depth++;
      else if (w === "END" && depth > 0) depth--;
    } else if (t.kind === "semicolon" && depth === 0) {
      push(t.start);
      start = t.end;
      trigger = false;
    }
  }
  push(sql.length);
  return out;
}

/**
 * Rewrites `?NNN` parameters to plain `?` (better-sqlite3 binds by position
 * only) and records which binding each takes, so `?1` may appear twice.
 */
export function rewriteParams(text: string): { sql: string; order: number[]; arity: number } {
  const tokens = scan(text).filter((t) => t.kind === "placeholder");
  let sql = "";
  let last = 0;
  let next = 0;
  let arity = 0;
  const order: number[] = [];
  for (const t of tokens) {
    const index = t.text.length > 1 ? Number(t.text.slice(1)) - 1 : next;
    next = Math.max(next, index + 1);
    arity = Math.max(arity, index + 1);
    order.push(index);
    sql += `${text.slice(last, t.start)}?`;
    last = t.end;
  }
  return { sql: sql + text.slice(last), order, arity };
}
