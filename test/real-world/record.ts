import { isDeepStrictEqual } from "node:util";
import { runUnder, startReference, startTerrarium, type Runtime } from "./harness.ts";

/**
 * Prints a real-world scenario's transcript, for writing and checking one:
 *
 *   npx tsx test/real-world/record.ts <project>            # workerd's
 *   npx tsx test/real-world/record.ts <project> terrarium  # Terrarium's
 *   npx tsx test/real-world/record.ts <project> diff       # the steps that differ
 */
const [project, mode = "workerd"] = process.argv.slice(2);
if (!project) {
  process.stderr.write("usage: record.ts <project> [workerd|terrarium|diff]\n");
  process.exit(2);
}
const { scenario } = (await import(`./scenarios/${project}.ts`)) as {
  scenario: (rt: Runtime, note: (label: string, seen: unknown) => void) => Promise<void>;
};
const under = async (start: typeof startReference) => (await runUnder(start, project, scenario)).transcript;
if (mode === "diff") {
  const [expected, actual] = [await under(startReference), await under(startTerrarium)];
  for (let i = 0; i < Math.max(expected.length, actual.length); i++) {
    if (isDeepStrictEqual(expected[i], actual[i])) continue;
    process.stdout.write(
      `workerd:   ${JSON.stringify(expected[i])}\nterrarium: ${JSON.stringify(actual[i])}\n\n`,
    );
  }
} else {
  const transcript = await under(mode === "terrarium" ? startTerrarium : startReference);
  process.stdout.write(`${JSON.stringify(transcript, null, 2)}\n`);
}
