import { cpSync, existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import { ProjectError } from "../config/errors.ts";
import { loadProject } from "../config/project.ts";
import { editJsonc } from "../design/edit-files.ts";
import { RESOURCES } from "./templates.ts";

/** The sample projects a new project can start from (resources/samples). */
export const SAMPLES = {
  aidevos: "the AIDevOS system: eight object classes, the Event Bus, D1, R2 and a mock API",
  counter: "one Durable Object class with SQL storage and RPC, Cloudflare's starter shape",
} as const;

export type SampleName = keyof typeof SAMPLES;

/** A Worker name from a folder name: lower case letters, digits and dashes. */
export function workerName(folder: string): string {
  const n = basename(folder)
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 63);
  return n || "terrarium-project";
}

/**
 * Creates a project in `dir` (missing or empty) from a sample: its files as
 * they are, the Worker named after the folder (ids derive from that name,
 * so a copy never shares objects with its sample), and no data. The result
 * must load as any project does.
 */
export function newProject(
  dir: string,
  opts: { sample?: string; name?: string } = {},
): { dir: string; name: string } {
  const sample = opts.sample ?? "counter";
  if (!Object.hasOwn(SAMPLES, sample)) {
    throw new ProjectError(`no sample "${sample}"; pick one of ${Object.keys(SAMPLES).join(", ")}`);
  }
  const target = resolve(dir);
  if (existsSync(target) && readdirSync(target).length > 0) {
    throw new ProjectError(`${target} is not empty; pick a new or empty folder`);
  }
  const name = opts.name ?? workerName(target);
  if (!/^[a-z0-9][a-z0-9-]{0,62}$/.test(name)) {
    throw new ProjectError(`"${name}" cannot name a Worker: lower case letters, digits and dashes`);
  }
  const source = join(RESOURCES, "samples", sample);
  cpSync(source, target, {
    recursive: true,
    filter: (src) => !/[\\/](\.terrarium|node_modules|\.wrangler)([\\/]|$)/.test(src.slice(source.length)),
  });
  const config = join(target, "wrangler.jsonc");
  let text = readFileSync(config, "utf8");
  text = editJsonc(text, ["name"], name);
  // The samples point at the repository's own copy of wrangler's schema (the line goes, comments stay).
  text = text.replace(/^[ \t]*"\$schema":[^\n]*\n/m, "");
  writeFileSync(config, text);
  loadProject(target);
  return { dir: target, name };
}
