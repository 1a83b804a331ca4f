import { existsSync } from "node:fs";
import { dirname, relative, resolve } from "node:path";
import { ProjectError } from "../config/errors.ts";
import { ExportError, exportProject } from "../export/exporter.ts";
import { fail, parseCommand, usageError } from "./commands.ts";

/** `terrarium export <projectDir> --out <dir> [--force]` */
export async function exportCommand(argv: string[]): Promise<void> {
  const { values, positionals } = parseCommand("export", argv);
  // -c as on serve: the first config is the project's Worker, each other one more Worker to export.
  const configs = (values.config ?? []).map((c) => resolve(c));
  for (const c of configs) if (!existsSync(c)) fail(`no such config file: ${c} (-c)`);
  if (positionals.length > 1 || (positionals.length === 0 && configs.length === 0))
    usageError("takes one project folder: terrarium export <projectDir> --out <dir>");
  if (!values.out) usageError("needs --out <dir>");
  const projectDir = configs[0] ? dirname(configs[0]) : resolve(positionals[0]!);
  if (configs[0] && positionals[0] !== undefined && resolve(positionals[0]) !== projectDir)
    usageError(`the project folder is the first -c config's (${projectDir}); drop "${positionals[0]}" or -c`);
  if (!existsSync(projectDir)) fail(`no such folder: ${projectDir}`);
  const out = resolve(values.out);
  try {
    const plan = await exportProject(projectDir, out, {
      force: values.force,
      ...(values.env !== undefined ? { env: values.env } : {}),
      workers: configs.slice(1),
      ...(configs[0] ? { configPath: configs[0] } : {}),
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
