import { existsSync, readFileSync } from "node:fs";
import { basename, join } from "node:path";
import { ProjectError } from "./errors.ts";

/**
 * Local secrets, as wrangler dev reads them: `.dev.vars` beside the wrangler
 * config (or `.dev.vars.<env>` for a named environment) in dotenv format;
 * when there is none, the `.env` files (`.env`, `.env.local`, then
 * `.env.<env>` and `.env.<env>.local`, later ones winning). Their values
 * join `env` over `vars`; Terrarium never prints them, and the export lists
 * their names only (for `wrangler secret put`).
 */
export interface DevVars {
  /** The files read, in order (empty: none). */
  readonly files: readonly string[];
  readonly values: Readonly<Record<string, string>>;
}

/** Parses dotenv text: KEY=value lines, `export` prefixes, quotes, # comments; throws on a malformed line. */
export function parseDotenv(text: string, file: string): Record<string, string> {
  const out: Record<string, string> = {};
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    let line = lines[i]!.trim();
    if (line === "" || line.startsWith("#")) continue;
    if (line.startsWith("export ")) line = line.slice("export ".length).trim();
    const m = /^([A-Za-z_][A-Za-z0-9_.-]*)\s*=\s*(.*)$/.exec(line);
    if (!m) {
      throw new ProjectError("expected KEY=value", { file, line: i + 1, column: 1 });
    }
    const key = m[1]!;
    let value = m[2]!;
    const quote = value[0];
    if (quote === '"' || quote === "'" || quote === "`") {
      // A quoted value may span lines, up to its closing quote.
      let body = value.slice(1);
      let end = body.indexOf(quote);
      while (end < 0 && i + 1 < lines.length) {
        body += "\n" + lines[++i]!;
        end = body.indexOf(quote);
      }
      if (end < 0) throw new ProjectError(`unterminated ${quote} quote`, { file, line: i + 1, column: 1 });
      value = body.slice(0, end);
      if (quote === '"') value = value.replace(/\\n/g, "\n").replace(/\\r/g, "\r").replace(/\\t/g, "\t");
    } else {
      const hash = value.search(/\s#/);
      if (hash >= 0) value = value.slice(0, hash);
      value = value.trim();
    }
    out[key] = value;
  }
  return out;
}

export function loadDevVars(projectDir: string, envName: string | null = null): DevVars {
  const devVars = join(projectDir, envName ? `.dev.vars.${envName}` : ".dev.vars");
  const fallback =
    envName && existsSync(join(projectDir, ".dev.vars")) ? join(projectDir, ".dev.vars") : null;
  let files: string[];
  if (existsSync(devVars)) files = [devVars];
  else if (fallback) files = [fallback];
  else {
    const names = [".env", ".env.local", ...(envName ? [`.env.${envName}`, `.env.${envName}.local`] : [])];
    files = names.map((n) => join(projectDir, n)).filter((p) => existsSync(p));
  }
  const values: Record<string, string> = {};
  for (const f of files) Object.assign(values, parseDotenv(readFileSync(f, "utf8"), basename(f)));
  return { files, values };
}
