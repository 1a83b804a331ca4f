import { ClassVersions } from "../state/class-versions.ts";
import { fail, projectFolder } from "./common.ts";
import { dataFolder, refuseWhileServed, when, withEngine } from "./snapshot.ts";
import { parseCommand, usageError } from "./commands.ts";
import { controlApi } from "../api/control-api.ts";

/**
 * `terrarium versions` lists a class's saved versions (read from the data
 * folder, also while a Terrarium serves it); `terrarium rollback` rolls the
 * class back to one, through the engine's live-update path, and is refused
 * while another process serves the folder (its Design view does it then).
 */

function classFlag(c: string | undefined): string {
  if (c === undefined || !/^[A-Za-z_$][A-Za-z0-9_$]*$/.test(c))
    usageError("needs --class NAME (a class of the project)");
  return c;
}

/** `terrarium versions [projectDir] --class NAME [--json]` */
export async function versionsCommand(argv: string[]): Promise<void> {
  const { values, positionals } = parseCommand("versions", argv);
  const className = classFlag(values.class);
  const dataDir = dataFolder(projectFolder(positionals), values.data);
  const history = new ClassVersions(dataDir).history(className);
  if (values.json) {
    process.stdout.write(`${JSON.stringify(history, null, 2)}\n`);
    return;
  }
  if (history.length === 0) fail(`no versions of ${className} in ${dataDir} (run the project once)`);
  history.forEach((v, i) => {
    const current = i === history.length - 1 ? "  (current)" : "";
    process.stdout.write(
      `${v.hash.slice(0, 12)}  ${when(v.savedAt)}  ${v.cause.padEnd(8)}  ${v.file}${current}\n`,
    );
  });
}

/** `terrarium rollback [projectDir] --class NAME --version HASH_PREFIX` */
export async function rollbackCommand(argv: string[]): Promise<void> {
  const { values, positionals } = parseCommand("rollback", argv);
  const className = classFlag(values.class);
  const projectDir = projectFolder(positionals);
  const dataDir = dataFolder(projectDir, values.data);
  const prefix = typeof values.version === "string" ? values.version.toLowerCase() : "";
  if (!/^[0-9a-f]{6,64}$/.test(prefix))
    usageError("needs --version HASH (6 or more hex digits; terrarium versions lists them)");
  const hashes = [...new Set(new ClassVersions(dataDir).history(className).map((v) => v.hash))];
  const found = hashes.filter((h) => h.startsWith(prefix));
  if (found.length === 0)
    fail(`${className} has no version ${prefix} (terrarium versions --class ${className})`);
  if (found.length > 1) fail(`${prefix} matches ${found.length} versions of ${className}; give more digits`);
  const hash = found[0]!;
  refuseWhileServed(dataDir, "rollback", "its Design view (the class's History: Roll back)");
  const r = await withEngine(projectDir, dataDir, (e) => controlApi(e).rollbackClass({ className, hash }));
  process.stdout.write(
    `Rolled ${className} back to ${hash.slice(0, 12)}: ${r.file} has that version's text.\n`,
  );
}
