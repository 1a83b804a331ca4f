import { readFile } from "node:fs/promises";
import type * as esbuild from "esbuild";
import type { ModuleRule } from "../config/wrangler.ts";

/**
 * wrangler's module rules, as wrangler bundles them: an import whose path
 * matches a rule's globs loads as that rule's type instead of as code.
 *
 *   Text          default export: the file's text (a string)
 *   Data          default export: the file's bytes (an ArrayBuffer)
 *   CompiledWasm  default export: a WebAssembly.Module
 *   ESModule, CommonJS: bundled as JavaScript
 *
 * The project's rules come first, then wrangler's defaults; a rule without
 * `fallthrough: true` ends its type, so later rules of the same type
 * (including a default) are ignored.
 */
export const DEFAULT_MODULE_RULES: readonly ModuleRule[] = [
  { type: "Text", globs: ["**/*.txt", "**/*.html", "**/*.sql"], fallthrough: false },
  { type: "Data", globs: ["**/*.bin"], fallthrough: false },
  { type: "CompiledWasm", globs: ["**/*.wasm", "**/*.wasm?module"], fallthrough: false },
];

export interface EffectiveRules {
  /** The rules in force, in the order they are tried. */
  rules: ModuleRule[];
  /** Rules dropped because an earlier rule of their type does not fall through. */
  ignored: ModuleRule[];
}

export function effectiveRules(projectRules: readonly ModuleRule[]): EffectiveRules {
  const rules: ModuleRule[] = [];
  const ignored: ModuleRule[] = [];
  const ended = new Set<ModuleRule["type"]>();
  for (const rule of [...projectRules, ...DEFAULT_MODULE_RULES]) {
    if (ended.has(rule.type)) {
      ignored.push(rule);
      continue;
    }
    rules.push(rule);
    if (!rule.fallthrough) ended.add(rule.type);
  }
  return { rules, ignored };
}

/**
 * A glob as wrangler reads one: `**` spans directories, `*` stays within
 * one, and everything else is literal (so `**\/*.wasm?module` matches the
 * `?module` suffix). Matched against the import path as written.
 */
export function globToRegExp(glob: string): RegExp {
  let source = "";
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === "*" && glob[i + 1] === "*") {
      i++;
      if (glob[i + 1] === "/") {
        i++;
        source += "(?:[^/]*/)*";
      } else source += ".*";
    } else if (c === "*") source += "[^/]*";
    else source += c.replace(/[.+?^${}()|[\]\\/]/g, "\\$&");
  }
  return new RegExp(`^${source}$`);
}

type Loaded = { type: ModuleRule["type"] };
const SKIP = Symbol("terrarium-module-rules-skip");

function base64Bytes(bytes: Uint8Array): string {
  return `Uint8Array.from(atob(${JSON.stringify(Buffer.from(bytes).toString("base64"))}), (c) => c.charCodeAt(0))`;
}

export function moduleRulesPlugin(projectRules: readonly ModuleRule[]): esbuild.Plugin {
  const rules = effectiveRules(projectRules).rules.map((rule) => ({
    rule,
    patterns: rule.globs.map(globToRegExp),
  }));
  return {
    name: "terrarium-module-rules",
    setup(build) {
      build.onResolve({ filter: /.*/ }, async (args) => {
        if (args.pluginData === SKIP || args.path.startsWith("cloudflare:") || args.path.startsWith("node:"))
          return undefined;
        const match = rules.find((r) => r.patterns.some((p) => p.test(args.path)));
        if (!match) return undefined;
        const resolved = await build.resolve(args.path.replace(/\?module$/, ""), {
          kind: args.kind,
          importer: args.importer,
          resolveDir: args.resolveDir,
          pluginData: SKIP,
        });
        if (resolved.errors.length > 0) return { errors: resolved.errors };
        const loaded: Loaded = { type: match.rule.type };
        return { path: resolved.path, namespace: resolved.namespace, pluginData: loaded };
      });
      build.onLoad({ filter: /.*/ }, async (args) => {
        const type = (args.pluginData as Loaded | undefined)?.type;
        if (!type) return undefined;
        switch (type) {
          case "Text":
            return { contents: await readFile(args.path, "utf8"), loader: "text" };
          case "Data":
            return {
              contents: `export default ${base64Bytes(await readFile(args.path))}.buffer;`,
              loader: "js",
            };
          case "CompiledWasm":
            return {
              contents: `export default new WebAssembly.Module(${base64Bytes(await readFile(args.path))});`,
              loader: "js",
            };
          case "ESModule":
          case "CommonJS":
            return { contents: await readFile(args.path, "utf8"), loader: "js" };
        }
      });
    },
  };
}
