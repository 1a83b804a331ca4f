/**
 * The `_redirects` and `_headers` files of an assets folder, read as
 * wrangler reads them (workers-shared's parseRedirects / parseHeaders) and
 * matched as the asset worker matches them: a rule is a path (or an
 * `https://host/path`) where `*` is the splat and `:name` a placeholder,
 * both usable in the redirect's target and in header values. Lines wrangler
 * would skip are skipped, with the reason in `problems`.
 */

export interface RedirectRule {
  readonly status: number;
  readonly to: string;
  readonly lineNumber: number;
}

interface Compiled<T> {
  readonly re: RegExp;
  readonly crossHost: boolean;
  readonly value: T;
}

export interface HeaderRule {
  readonly set: Readonly<Record<string, string>>;
  readonly unset: readonly string[];
}

export interface AssetRules {
  /** Rules without a splat or placeholder before the first one that has one, by path. */
  readonly staticRedirects: ReadonlyMap<string, RedirectRule>;
  readonly dynamicRedirects: readonly Compiled<RedirectRule>[];
  readonly headers: readonly Compiled<HeaderRule>[];
  /** Lines skipped, as "<file>:<line>: <why>". */
  readonly problems: readonly string[];
}

const MAX_LINE_LENGTH = 2000;
const MAX_STATIC_REDIRECTS = 2000;
const MAX_DYNAMIC_REDIRECTS = 100;
const MAX_HEADER_RULES = 100;
const REDIRECT_STATUSES = new Set([200, 301, 302, 303, 307, 308]);
const DYNAMIC = /\*|:[A-Za-z]\w*/;
const ABSOLUTE = /^https:\/\/+(?<host>[^/]+)\/?(?<path>.*)/;

/** The path part of a rule's URL, normalised as `new URL` normalises it. */
function pathOf(path: string, search: boolean, hash: boolean): string {
  const url = new URL(`//${path.startsWith("/") ? path : `/${path}`}`, "relative://");
  return `${url.pathname}${search ? url.search : ""}${hash ? url.hash : ""}`;
}

/** A rule's URL as wrangler keeps it, or the reason it is skipped. */
function ruleUrl(
  token: string,
  opts: { onlyRelative?: boolean; noPorts?: boolean; search?: boolean; hash?: boolean },
): { url: string } | { error: string } {
  const abs = ABSOLUTE.exec(token)?.groups;
  if (abs?.host) {
    if (opts.onlyRelative)
      return { error: `Only relative URLs are allowed. Skipping absolute URL ${token}.` };
    if (opts.noPorts && /:\d+$/.test(abs.host)) {
      return { error: `Specifying ports is not supported. Skipping absolute URL ${token}.` };
    }
    return { url: `https://${abs.host}${pathOf(abs.path ?? "", !!opts.search, !!opts.hash)}` };
  }
  const path = !token.startsWith("/") && opts.onlyRelative ? `/${token}` : token;
  if (path.startsWith("/")) {
    try {
      return { url: pathOf(path, !!opts.search, !!opts.hash) };
    } catch {
      return { error: `Error parsing URL segment ${path}. Skipping.` };
    }
  }
  return {
    error: opts.onlyRelative
      ? "URLs should begin with a forward-slash."
      : 'URLs should either be relative (e.g. begin with a forward-slash), or use HTTPS (e.g. begin with "https://").',
  };
}

/** `*` as the splat, `:name` as a placeholder (within a segment; in the host, within a label). */
function ruleRegExp(rule: string): RegExp {
  const hostEnd = rule.startsWith("https://") ? rule.indexOf("/", "https://".length) : -1;
  let re = "";
  for (let i = 0; i < rule.length; i++) {
    const c = rule[i]!;
    const name = c === ":" ? /^[A-Za-z]\w*/.exec(rule.slice(i + 1))?.[0] : undefined;
    if (c === "*") re += "(?<splat>.*)";
    else if (name) {
      re += i < hostEnd ? `(?<${name}>[^/.]+)` : `(?<${name}>[^/]+)`;
      i += name.length;
    } else re += c.replace(/[-/\\^$*+?.()|[\]{}]/g, "\\$&");
  }
  return new RegExp(`^${re}$`);
}

function compile<T>(rule: string, value: T): Compiled<T> | null {
  try {
    return { re: ruleRegExp(rule), crossHost: rule.startsWith("https://"), value };
  } catch {
    // Two splats (or a placeholder twice) make no valid pattern: wrangler drops the rule too.
    return null;
  }
}

/** Fills `:splat` and `:name` in a target or header value with what the rule matched. */
export function fill(text: string, groups: Readonly<Record<string, string | undefined>>): string {
  let out = text;
  for (const [name, value] of Object.entries(groups)) out = out.replaceAll(`:${name}`, value ?? "");
  return out;
}

/** The rules of one file that match a request, in file order, with what each matched. */
export function matching<T>(
  rules: readonly Compiled<T>[],
  hostname: string,
  pathname: string,
): { value: T; groups: Record<string, string | undefined> }[] {
  const out: { value: T; groups: Record<string, string | undefined> }[] = [];
  for (const r of rules) {
    const m = r.re.exec(r.crossHost ? `https://${hostname}${pathname}` : pathname);
    if (m) out.push({ value: r.value, groups: { ...m.groups } });
  }
  return out;
}

function lines(text: string): string[] {
  return text.split("\n");
}

export function parseRedirects(
  text: string,
  htmlHandling: string,
  problems: string[],
): Pick<AssetRules, "staticRedirects" | "dynamicRedirects"> {
  const staticRedirects = new Map<string, RedirectRule>();
  const dynamicRedirects: Compiled<RedirectRule>[] = [];
  const seen = new Set<string>();
  let statics = 0;
  let dynamics = 0;
  let staticAllowed = true;
  const all = lines(text);
  for (let i = 0; i < all.length; i++) {
    const line = all[i]!.trim();
    const skip = (why: string): void => void problems.push(`_redirects:${i + 1}: ${why}`);
    if (line === "" || line.startsWith("#")) continue;
    if (line.length > MAX_LINE_LENGTH) {
      skip(`longer than ${MAX_LINE_LENGTH} characters`);
      continue;
    }
    const tokens = line.replace(/\s+#.*$/, "").split(/\s+/);
    if (tokens.length < 2 || tokens.length > 3) {
      skip(`expected 2 or 3 whitespace-separated tokens, got ${tokens.length}`);
      continue;
    }
    const [fromToken = "", toToken = "", statusToken = "302"] = tokens;
    const from = ruleUrl(fromToken, { onlyRelative: true, noPorts: true });
    if ("error" in from) {
      skip(from.error);
      continue;
    }
    const isStatic = staticAllowed && !DYNAMIC.test(from.url);
    if (isStatic) {
      if (++statics > MAX_STATIC_REDIRECTS) {
        skip(`more than ${MAX_STATIC_REDIRECTS} static rules`);
        continue;
      }
    } else {
      staticAllowed = false;
      if (++dynamics > MAX_DYNAMIC_REDIRECTS) {
        skip(`more than ${MAX_DYNAMIC_REDIRECTS} dynamic rules: the rest of the file is skipped`);
        break;
      }
    }
    const to = ruleUrl(toToken, { search: true, hash: true });
    if ("error" in to) {
      skip(to.error);
      continue;
    }
    const status = Number(statusToken);
    if (!REDIRECT_STATUSES.has(status)) {
      skip(`valid status codes are 200, 301, 302 (default), 303, 307 and 308, not ${statusToken}`);
      continue;
    }
    const relativeTo = !ABSOLUTE.test(to.url);
    const toIndex = /\/index(.html)?$/.test(to.url);
    if (
      relativeTo &&
      ((from.url.endsWith("/*") && toIndex) || (from.url.endsWith("/") && toIndex && htmlHandling !== "none"))
    ) {
      skip("an infinite loop: html_handling would redirect the target back to this rule");
      continue;
    }
    if (seen.has(from.url)) {
      skip(`a second rule for ${from.url}`);
      continue;
    }
    seen.add(from.url);
    if (status === 200 && !relativeTo) {
      skip(`a proxy (200) rule can only point to a relative path, not ${to.url}`);
      continue;
    }
    const rule = { status, to: to.url, lineNumber: i + 1 };
    if (isStatic) staticRedirects.set(from.url, rule);
    else {
      const c = compile(from.url, rule);
      if (c) dynamicRedirects.push(c);
    }
  }
  return { staticRedirects, dynamicRedirects };
}

export function parseHeaders(text: string, problems: string[]): Compiled<HeaderRule>[] {
  const rules: Compiled<HeaderRule>[] = [];
  let current: { path: string; line: number; set: Record<string, string>; unset: string[] } | null = null;
  const finish = (): void => {
    if (!current) return;
    if (Object.keys(current.set).length === 0 && current.unset.length === 0) {
      problems.push(`_headers:${current.line}: no headers for ${current.path}`);
    } else {
      const c = compile(current.path, { set: current.set, unset: current.unset });
      if (c) rules.push(c);
    }
    current = null;
  };
  const all = lines(text);
  for (let i = 0; i < all.length; i++) {
    const line = all[i]!.trim();
    const skip = (why: string): void => void problems.push(`_headers:${i + 1}: ${why}`);
    if (line === "" || line.startsWith("#")) continue;
    if (line.length > MAX_LINE_LENGTH) {
      skip(`longer than ${MAX_LINE_LENGTH} characters`);
      continue;
    }
    if (/^([^\s]+:\/\/|\/)/.test(line)) {
      if (rules.length >= MAX_HEADER_RULES) {
        skip(`more than ${MAX_HEADER_RULES} rules: the rest of the file is skipped`);
        break;
      }
      finish();
      const path = ruleUrl(line, { noPorts: true });
      if ("error" in path) {
        skip(path.error);
        continue;
      }
      current = { path: path.url, line: i + 1, set: {}, unset: [] };
      continue;
    }
    if (!line.includes(":")) {
      if (current && line.startsWith("! ")) current.unset.push(line.slice(2));
      else skip(current ? "expected a header (name: value)" : "expected a path starting with /");
      continue;
    }
    const colon = line.indexOf(":");
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    if (name.includes(" ")) skip("a header name cannot include spaces");
    else if (name === "") skip("no header name");
    else if (value === "") skip("no header value");
    else if (!current) skip(`the path comes before the header (${name}: ${value})`);
    else current.set[name] = current.set[name] ? `${current.set[name]}, ${value}` : value;
  }
  finish();
  return rules;
}

/** Reads both files' text (undefined: no such file). */
export function parseAssetRules(
  redirects: string | undefined,
  headers: string | undefined,
  htmlHandling: string,
): AssetRules {
  const problems: string[] = [];
  const r =
    redirects === undefined
      ? { staticRedirects: new Map<string, RedirectRule>(), dynamicRedirects: [] }
      : parseRedirects(redirects, htmlHandling, problems);
  return { ...r, headers: headers === undefined ? [] : parseHeaders(headers, problems), problems };
}

const REDIRECT_TEXT: Readonly<Record<number, string>> = {
  301: "Moved Permanently",
  302: "Found",
  303: "See Other",
  307: "Temporary Redirect",
  308: "Permanent Redirect",
};

/**
 * The _redirects rule for a request: a redirect (status, Location, status
 * text), a rewrite (200: the path to serve instead), or null.
 */
export function redirectFor(
  rules: AssetRules,
  url: URL,
): { status: number; statusText: string; location: string } | { rewrite: string } | null {
  const withHost = rules.staticRedirects.get(`https://${url.host}${url.pathname}`);
  const plain = rules.staticRedirects.get(url.pathname);
  let rule: { status: number; to: string } | undefined =
    withHost && plain ? (withHost.lineNumber < plain.lineNumber ? withHost : plain) : (withHost ?? plain);
  if (!rule) {
    const m = matching(rules.dynamicRedirects, url.hostname, url.pathname)[0];
    if (m) {
      const to = fill(m.value.to, m.groups).trim();
      rule = { status: m.value.status, to: /^\w+:\/\//.test(to) ? to : to.replace(/\/+/g, "/") };
    }
  }
  if (!rule) return null;
  if (rule.status === 200) return { rewrite: new URL(rule.to, url).pathname };
  const dest = new URL(rule.to, url);
  const search = dest.search || url.search;
  const location =
    dest.origin === url.origin
      ? `${dest.pathname}${search}${dest.hash}`
      : `${dest.href.slice(0, dest.href.length - (dest.search.length + dest.hash.length))}${search}${dest.hash}`;
  return { status: rule.status, statusText: REDIRECT_TEXT[rule.status] ?? "Found", location };
}

/** Applies the _headers rules that match a request to a response's headers (unset, then set or append). */
export function applyHeaders(rules: AssetRules, url: URL, headers: [string, string][]): [string, string][] {
  const matched = matching(rules.headers, url.hostname, url.pathname);
  if (matched.length === 0) return headers;
  let out = headers;
  const setHere = new Set<string>();
  for (const { value, groups } of matched) {
    for (const name of value.unset) out = out.filter(([k]) => k !== name.toLowerCase());
    for (const [name, raw] of Object.entries(value.set)) {
      const v = fill(raw, groups);
      if (!setHere.has(name)) {
        out = out.filter(([k]) => k !== name);
        setHere.add(name);
      }
      out = [...out, [name, v]];
    }
  }
  return out;
}
