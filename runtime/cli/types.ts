import { existsSync } from "node:fs";
import { relative, resolve } from "node:path";
import { ProjectError } from "../config/errors.ts";
import { loadProject } from "../config/project.ts";
import { writeEnvTypes } from "../design/env-types.ts";
import { fail, parseCommand, usageError } from "./commands.ts";

/** `terrarium types [projectDir]`: writes worker-configuration.d.ts, as `wrangler types --include-runtime=false` does. */
export function typesCommand(argv: string[]): void {
  const { positionals } = parseCommand("types", argv);
  if (positionals.length > 1) usageError("takes at most one project folder: terrarium types [projectDir]");
  const projectDir = resolve(positionals[0] ?? ".");
  if (!existsSync(projectDir)) fail(`no such folder: ${projectDir}`);
  try {
    const file = writeEnvTypes(loadProject(projectDir));
    const rel = relative(process.cwd(), file);
    process.stdout.write(
      `Types written to ${rel.startsWith("..") ? file : rel}\n` +
        "Use them with @cloudflare/workers-types: add it to compilerOptions.types in tsconfig.json.\n",
    );
  } catch (e) {
    if (e instanceof ProjectError) fail(e.message);
    throw e;
  }
}
