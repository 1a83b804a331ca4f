import { existsSync } from "node:fs";
import { relative, resolve } from "node:path";
import { parseArgs } from "node:util";
import { ProjectError } from "../config/errors.ts";
import { ExportError, exportProject } from "../export/exporter.ts";
import { fail } from "./common.ts";

/** `terrarium export <projectDir> --out <dir> [--force]` */
export async function exportCommand(argv: string[]): Promise<void> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        out: { type: "string" },
        force: { type: "boolean", default: false },
        env: { type: "string", short: "e" },
      },
    });
  } catch (e) {
    fail((e as Error).message, 2);
  }
  const { values, positionals } = parsed;
  if (positionals.length !== 1)
    fail("export takes one project folder: terrarium export <projectDir> --out <dir>", 2);
  if (!values.out) fail("export needs --out <dir>", 2);
  const projectDir = resolve(positionals[0]!);
  if (!existsSync(projectDir)) fail(`no such folder: ${projectDir}`);
  const out = resolve(values.out);
  try {
    const plan = await exportProject(projectDir, out, {
      force: values.force,
      ...(values.env !== undefined ? { env: values.env } : {}),
    });
    for (const w of plan.warnings) process.stderr.write(`terrarium: warning: ${w}\n`);
    for (const f of plan.files) process.stdout.write(`  ${f.path}\n`);
    const rel = relative(process.cwd(), out);
    const where = rel === "" ? "." : rel.startsWith("..") ? out : rel;
    process.stdout.write(
      `Exported ${plan.projectName} to ${out} (${plan.files.length} files).\n` +
        `Next: cd ${where} && npm install && npm run deploy\n`,
    );
  } catch (e) {
    if (e instanceof ProjectError || e instanceof ExportError) fail(e.message);
    throw e;
  }
}
