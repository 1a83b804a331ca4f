/**
 * A matcher for .gitignore-style patterns (the format of .assetsignore):
 * blank lines and `#` comments skipped, `!` re-includes, a trailing `/`
 * matches folders only, a pattern with a `/` other than a trailing one is
 * anchored at the root (else it matches at any depth), `*` and `?` stay
 * within a path segment and `**` crosses them. A path is ignored when it,
 * or a folder it is in, matches; the last matching pattern decides.
 */
export function ignoreMatcher(lines: readonly string[]): (relativePath: string) => boolean {
  const rules: { negate: boolean; dirOnly: boolean; re: RegExp }[] = [];
  for (const raw of lines) {
    let line = raw.replace(/\r$/, "").replace(/(?<!\\)\s+$/, "");
    if (line === "" || line.startsWith("#")) continue;
    const negate = line.startsWith("!");
    if (negate) line = line.slice(1);
    const dirOnly = line.endsWith("/");
    if (dirOnly) line = line.slice(0, -1);
    const anchored = line.includes("/");
    if (line.startsWith("/")) line = line.slice(1);
    if (line === "") continue;
    let re = "";
    for (let i = 0; i < line.length; i++) {
      const c = line[i]!;
      if (c === "*" && line[i + 1] === "*") {
        const slashAfter = line[i + 2] === "/";
        re += slashAfter ? "(?:.*/)?" : ".*";
        i += slashAfter ? 2 : 1;
      } else if (c === "*") re += "[^/]*";
      else if (c === "?") re += "[^/]";
      else if (c === "\\" && i + 1 < line.length) re += escape(line[++i]!);
      else re += escape(c);
    }
    rules.push({ negate, dirOnly, re: new RegExp(`^${anchored ? "" : "(?:.*/)?"}${re}$`) });
  }
  if (rules.length === 0) return () => false;
  return (relativePath) => {
    const parts = relativePath.split("/");
    let ignored = false;
    for (const rule of rules) {
      // The path itself (a file), or any folder it is in.
      for (let n = parts.length; n >= 1; n--) {
        if (rule.dirOnly && n === parts.length) continue;
        if (rule.re.test(parts.slice(0, n).join("/"))) {
          ignored = !rule.negate;
          break;
        }
      }
    }
    return ignored;
  };
}

function escape(c: string): string {
  return /[.*+?^${}()|[\]\\/-]/.test(c) ? `\\${c}` : c;
}
