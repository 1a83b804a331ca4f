import type { RouteConfig } from "../config/terrarium.ts";

export interface CompiledRoute {
  config: RouteConfig;
  regex: RegExp;
  params: string[];
  methods: Set<string> | null;
}

/**
 * Compiles a route pattern: "/users/:id/profile", "/files/*" (the rest of
 * the path, as param "*"), or a literal path.
 */
export function compileRoute(config: RouteConfig): CompiledRoute {
  const params: string[] = [];
  const source = config.pattern
    .split("/")
    .map((seg) => {
      if (seg === "*") {
        params.push("*");
        return "(.*)";
      }
      if (seg.startsWith(":")) {
        params.push(seg.slice(1));
        return "([^/]+)";
      }
      return seg.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
    })
    .join("/");
  const methods = config.method
    ? new Set((Array.isArray(config.method) ? config.method : [config.method]).map((m) => m.toUpperCase()))
    : null;
  return { config, regex: new RegExp(`^${source}/?$`), params, methods };
}

export interface RouteMatch {
  route: CompiledRoute;
  objectName: string;
  /** Expands another template ("{param}", "{query.x}", "{header.x}") against the same request. */
  expand: (template: string) => string;
}

export function matchRoute(
  routes: readonly CompiledRoute[],
  method: string,
  url: URL,
  headers: Headers | (() => Headers),
): RouteMatch | null {
  let h: Headers | null = typeof headers === "function" ? null : headers;
  const header = (name: string): string | null => {
    h ??= (headers as () => Headers)();
    return h.get(name);
  };
  for (const route of routes) {
    if (route.methods && !route.methods.has(method)) continue;
    const m = route.regex.exec(url.pathname);
    if (!m) continue;
    const values: Record<string, string> = {};
    route.params.forEach((p, i) => {
      values[p] = decodeURIComponent(m[i + 1] ?? "");
    });
    const expand = (template: string): string =>
      template.replace(/\{([^}]+)\}/g, (_all, key: string) => {
        if (key.startsWith("query.")) return url.searchParams.get(key.slice(6)) ?? "";
        if (key.startsWith("header.")) return header(key.slice(7)) ?? "";
        return values[key] ?? "";
      });
    return { route, objectName: expand(route.config.object), expand };
  }
  return null;
}
