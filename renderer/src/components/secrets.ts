// Secrets files in the editor: `.dev.vars`, `.dev.vars.<env>` and the
// `.env` files wrangler reads hold secret values, which the UI never shows
// in clear until the user asks (the engine masks them everywhere else).

const SECRETS_FILE = /(^|\/)(\.dev\.vars(\.[^/]+)?|\.env(\.[^/]+)?)$/;

export function isSecretsFile(path: string): boolean {
  return SECRETS_FILE.test(path);
}

export const MASK = "••••••";

/** Dotenv text with every value replaced by MASK: names, comments and blank lines kept. */
export function maskDotenv(text: string): string {
  const out: string[] = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const m = /^(\s*(?:export\s+)?[A-Za-z_][A-Za-z0-9_.-]*\s*=\s*)(.*)$/.exec(line);
    if (!m) {
      out.push(line.trim().startsWith("#") || line.trim() === "" ? line : MASK);
      continue;
    }
    out.push(`${m[1]}${m[2] === "" ? "" : MASK}`);
    // A quoted value may span lines: mask them all, up to the closing quote.
    const q = m[2]![0];
    if ((q === '"' || q === "'" || q === "`") && m[2]!.indexOf(q, 1) < 0) {
      while (i + 1 < lines.length && !lines[i + 1]!.includes(q)) i++;
      if (i + 1 < lines.length) i++;
    }
  }
  return out.join("\n");
}
