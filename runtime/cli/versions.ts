import { ClassVersions } from "../state/class-versions.ts";
import { fail, projectFolder } from "./common.ts";
import { dataFolder, parse, refuseWhileServed, when, withEngine } from "./snapshot.ts";

/**
 * `terrarium versions` lists a class's saved versions (read from the data
 * folder, also while a Terrarium serves it); `terrarium rollback` rolls the
 * class back to one, through the engine's live-update path, and is refused
 * while another process serves the folder (its Design view does it then).
 */

function classFlag(values: Record<string, string | boolean | undefined>, command: string): string {
  const c = values.class;
  if (typeof c !== "string" || !/^[A-Za-z_$][A-Za-z0-9_$]*$/.test(c))
    fail(`${command} needs --class NAME (a class of the project)`, 2);
  return c;
}

/** `terrarium versions [projectDir] --class NAME [--json]` */
export async function versionsCommand(argv: string[]): Promise<void> {
  const { values, positionals } = parse(argv, {
    class: { type: "string" },
    json: { type: "boolean", default: false },
  });
  const className = classFlag(values, "versions");
  const dataDir = dataFolder(projectFolder("versions", positionals), values.data as string | undefined);
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
  const { values, positionals } = parse(argv, { class: { type: "string" }, version: { type: "string" } });
  const className = classFlag(values, "rollback");
  const projectDir = projectFolder("rollback", positionals);
  const dataDir = dataFolder(projectDir, values.data as string | undefined);
  const prefix = typeof values.version === "string" ? values.version.toLowerCase() : "";
  if (!/^[0-9a-f]{6,64}$/.test(prefix))
    fail("rollback needs --version HASH (6 or more hex digits; terrarium versions lists them)", 2);
  const hashes = [...new Set(new ClassVersions(dataDir).history(className).map((v) => v.hash))];
  const found = hashes.filter((h) => h.startsWith(prefix));
  if (found.length === 0)
    fail(`${className} has no version ${prefix} (terrarium versions --class ${className})`);
  if (found.length > 1) fail(`${prefix} matches ${found.length} versions of ${className}; give more digits`);
  const hash = found[0]!;
  refuseWhileServed(dataDir, "rollback", "its Design view (the class's History: Roll back)");
  const r = await withEngine(projectDir, dataDir, (e) => e.api.rollbackClass({ className, hash }));
  process.stdout.write(
    `Rolled ${className} back to ${hash.slice(0, 12)}: ${r.file} has that version's text.\n`,
  );
}
