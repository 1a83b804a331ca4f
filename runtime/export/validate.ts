import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { writeExport, type ExportPlan } from "./exporter.ts";

/**
 * Validation of an exported project with the real toolchain: a type-check
 * against @cloudflare/workers-types and `wrangler deploy --dry-run` (which
 * bundles it as a deploy would, without deploying). The test suite and the
 * UI's Export view run the same commands through here.
 */

export type ExportCheck = "typecheck" | "dry-run";
export const EXPORT_CHECKS: readonly ExportCheck[] = ["typecheck", "dry-run"];

export interface CheckResult {
  check: ExportCheck;
  /** The command as a person would type it in the exported folder. */
  command: string;
  /** The exit code; null when the process was killed (timeout). */
  code: number | null;
  ok: boolean;
  output: string;
  durationMs: number;
}

const LABELS: Record<ExportCheck, string> = {
  typecheck: "tsc --noEmit",
  "dry-run": "wrangler deploy --dry-run",
};

/** The tools an export names (package.json devDependencies), as Terrarium's own install has them. */
export interface Toolchain {
  /** The node_modules folder holding typescript, wrangler and @cloudflare/workers-types. */
  nodeModules: string;
  tsc: string;
  wrangler: string;
}

let toolchainCache: Toolchain | null | undefined;

/** Terrarium's own node_modules, when it has the toolchain (a development install does; a packaged app may not). */
export function toolchain(): Toolchain | null {
  if (toolchainCache !== undefined) return toolchainCache;
  toolchainCache = null;
  for (let dir = import.meta.dirname; ; dir = dirname(dir)) {
    const nm = join(dir, "node_modules");
    const tc = {
      nodeModules: nm,
      tsc: join(nm, "typescript", "bin", "tsc"),
      wrangler: join(nm, "wrangler", "bin", "wrangler.js"),
    };
    if (
      existsSync(tc.tsc) &&
      existsSync(tc.wrangler) &&
      existsSync(join(nm, "@cloudflare", "workers-types", "package.json"))
    ) {
      toolchainCache = tc;
      break;
    }
    if (dirname(dir) === dir) break;
  }
  return toolchainCache;
}

function requireToolchain(): Toolchain {
  const tc = toolchain();
  if (!tc) throw new Error("this Terrarium install has no typescript and wrangler to validate with");
  return tc;
}

/** What `npm install` gives a user of the export: a node_modules with the toolchain (a link to Terrarium's). */
export function linkToolchain(outDir: string): void {
  symlinkSync(requireToolchain().nodeModules, join(outDir, "node_modules"), "dir");
}

/**
 * Runs one check in an exported project folder that has the toolchain in
 * its node_modules. `distDir` is where the dry run leaves its bundle
 * (default: a throwaway folder). Output (stdout and stderr, interleaved)
 * goes to `onOutput` as it comes.
 */
export async function runCheck(
  check: ExportCheck,
  dir: string,
  opts: { distDir?: string; onOutput?: (chunk: string) => void; timeoutMs?: number } = {},
): Promise<CheckResult> {
  const tc = requireToolchain();
  const scratch = opts.distDir ? null : mkdtempSync(join(tmpdir(), "terrarium-dist-"));
  const args =
    check === "typecheck"
      ? [tc.tsc, "-p", dir, "--noEmit", "--pretty", "false"]
      : [tc.wrangler, "deploy", "--dry-run", "--outdir", opts.distDir ?? join(scratch!, "dist")];
  const started = performance.now();
  try {
    const { code, output } = await new Promise<{ code: number | null; output: string }>((resolve, reject) => {
      const child = spawn(process.execPath, args, {
        cwd: dir,
        stdio: ["ignore", "pipe", "pipe"],
        env: { ...process.env, WRANGLER_SEND_METRICS: "false", NO_COLOR: "1", CI: "true", FORCE_COLOR: "0" },
      });
      let output = "";
      const take = (d: Buffer): void => {
        const s = d.toString();
        output += s;
        opts.onOutput?.(s);
      };
      child.stdout.on("data", take);
      child.stderr.on("data", take);
      const timer = setTimeout(() => child.kill("SIGKILL"), opts.timeoutMs ?? 180_000);
      child.once("error", (e) => {
        clearTimeout(timer);
        reject(e);
      });
      child.once("exit", (c) => {
        clearTimeout(timer);
        resolve({ code: c, output });
      });
    });
    return {
      check,
      command: LABELS[check],
      code,
      ok: code === 0,
      output,
      durationMs: performance.now() - started,
    };
  } finally {
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  }
}

/**
 * Runs a check on a plan without touching the user's output folder: the
 * plan's files go to a scratch folder with Terrarium's toolchain linked in.
 * The export is repeatable, so this validates exactly what writeExport writes.
 */
export async function validatePlan(
  plan: ExportPlan,
  check: ExportCheck,
  opts: { onOutput?: (chunk: string) => void; timeoutMs?: number } = {},
): Promise<CheckResult> {
  const root = mkdtempSync(join(tmpdir(), "terrarium-validate-"));
  try {
    const out = join(root, plan.projectName.replace(/[^A-Za-z0-9._-]/g, "_") || "export");
    writeExport(plan, out);
    linkToolchain(out);
    return await runCheck(check, out, { ...opts, distDir: join(root, "dist") });
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}
