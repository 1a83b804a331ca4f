/**
 * Finds where a name is used as an identifier in JavaScript or TypeScript
 * source: not inside strings, template text, comments or regular
 * expressions, and not as a property after a dot. A small scanner, not a
 * parser: enough to rename a class across a project's files the way an
 * editor's "rename symbol" would for the code Durable Object projects have.
 */

export interface IdentifierUse {
  /** Offset of the first character. */
  index: number;
  line: number;
  column: number;
}

const ID_START = /[A-Za-z_$\u00a0-\uffff]/;
const ID_PART = /[A-Za-z0-9_$\u00a0-\uffff]/;
/** After these (ignoring spaces), a `/` starts a regular expression rather than a division. */
const REGEX_AFTER = new Set([
  "",
  "(",
  ",",
  "=",
  ":",
  "[",
  "!",
  "&",
  "|",
  "?",
  "{",
  "}",
  ";",
  "+",
  "-",
  "*",
  "%",
  "<",
  ">",
  "~",
  "^",
]);
const REGEX_AFTER_WORDS = new Set([
  "return",
  "typeof",
  "instanceof",
  "in",
  "of",
  "new",
  "delete",
  "void",
  "throw",
  "case",
  "do",
  "else",
  "yield",
  "await",
]);

export function findIdentifier(source: string, name: string): IdentifierUse[] {
  const uses: IdentifierUse[] = [];
  let i = 0;
  let line = 1;
  let lineStart = 0;
  /** The last significant token: a punctuation character or a word. */
  let last = "";
  /** Open `${` in template literals: the brace depth at which each resumes its template. */
  const templates: number[] = [];
  let depth = 0;
  const n = source.length;

  const newline = (at: number): void => {
    line++;
    lineStart = at + 1;
  };
  const skipString = (quote: string): void => {
    i++;
    while (i < n && source[i] !== quote) {
      if (source[i] === "\\") i++;
      else if (source[i] === "\n") newline(i);
      i++;
    }
    i++;
  };
  /** Template text up to its end or the next `${`; returns true when it ended. */
  const skipTemplateText = (): boolean => {
    while (i < n) {
      const c = source[i]!;
      if (c === "\\") {
        i += 2;
        continue;
      }
      if (c === "\n") newline(i);
      if (c === "`") {
        i++;
        return true;
      }
      if (c === "$" && source[i + 1] === "{") {
        i += 2;
        return false;
      }
      i++;
    }
    return true;
  };

  while (i < n) {
    const c = source[i]!;
    if (c === "\n") {
      newline(i);
      i++;
      continue;
    }
    if (c === " " || c === "\t" || c === "\r") {
      i++;
      continue;
    }
    if (c === "/" && source[i + 1] === "/") {
      while (i < n && source[i] !== "\n") i++;
      continue;
    }
    if (c === "/" && source[i + 1] === "*") {
      i += 2;
      while (i < n && !(source[i] === "*" && source[i + 1] === "/")) {
        if (source[i] === "\n") newline(i);
        i++;
      }
      i += 2;
      continue;
    }
    if (c === "'" || c === '"') {
      skipString(c);
      last = "a";
      continue;
    }
    if (c === "`") {
      i++;
      if (!skipTemplateText()) templates.push(depth);
      last = "a";
      continue;
    }
    if (c === "/" && (REGEX_AFTER.has(last) || REGEX_AFTER_WORDS.has(last))) {
      i++;
      let inClass = false;
      while (i < n && source[i] !== "\n") {
        const d = source[i]!;
        if (d === "\\") i++;
        else if (d === "[") inClass = true;
        else if (d === "]") inClass = false;
        else if (d === "/" && !inClass) break;
        i++;
      }
      i++;
      while (i < n && ID_PART.test(source[i]!)) i++;
      last = "a";
      continue;
    }
    if (ID_START.test(c)) {
      const start = i;
      while (i < n && ID_PART.test(source[i]!)) i++;
      const word = source.slice(start, i);
      if (word === name && last !== ".") {
        uses.push({ index: start, line, column: start - lineStart + 1 });
      }
      last = word;
      continue;
    }
    if (c === "{") depth++;
    if (c === "}") {
      if (templates.length > 0 && templates[templates.length - 1] === depth) {
        templates.pop();
        i++;
        if (!skipTemplateText()) templates.push(depth);
        last = "a";
        continue;
      }
      depth--;
    }
    // `?.` is a property access too.
    last = c === "." || (c === "?" && source[i + 1] === ".") ? "." : c;
    i += c === "?" && source[i + 1] === "." ? 2 : 1;
  }
  return uses;
}

/** `source` with every identifier use of `from` replaced by `to`. */
export function renameIdentifier(source: string, from: string, to: string): { text: string; count: number } {
  const uses = findIdentifier(source, from);
  let text = "";
  let at = 0;
  for (const u of uses) {
    text += source.slice(at, u.index) + to;
    at = u.index + from.length;
  }
  return { text: text + source.slice(at), count: uses.length };
}
