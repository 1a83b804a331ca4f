import { isDeepStrictEqual } from "node:util";
import { join } from "node:path";
import { PROJECTS_DIR, readSteps, recordProject, startTerrarium, startWorkerd } from "./harness.ts";

/**
 * Prints a project's recorded responses, for writing and debugging the
 * fidelity projects:
 *   npx tsx test/fidelity/record.ts <project> [workerd|terrarium|diff]
 * `diff` runs both and prints only the steps whose responses differ.
 */
const [project, mode = "workerd"] = process.argv.slice(2);
if (project === undefined || !["workerd", "terrarium", "diff"].includes(mode)) {
  console.error("usage: tsx test/fidelity/record.ts <project> [workerd|terrarium|diff]");
  process.exit(2);
}
const dir = join(PROJECTS_DIR, project);

if (mode === "diff") {
  const steps = await readSteps(dir);
  const labels = steps.flatMap((s) =>
    Array.from({ length: s.concurrent ?? 1 }, () => `${s.method} ${s.path}`),
  );
  const workerd = await recordProject(startWorkerd, dir);
  const terrarium = await recordProject(startTerrarium, dir);
  let differences = 0;
  for (let i = 0; i < Math.max(workerd.length, terrarium.length); i++) {
    if (isDeepStrictEqual(workerd[i], terrarium[i])) continue;
    differences++;
    console.log(`#${i} ${labels[i] ?? "?"}`);
    console.log(`  workerd:   ${JSON.stringify(workerd[i])}`);
    console.log(`  terrarium: ${JSON.stringify(terrarium[i])}`);
  }
  console.log(differences === 0 ? "no differences" : `${differences} of ${workerd.length} responses differ`);
} else {
  const responses = await recordProject(mode === "workerd" ? startWorkerd : startTerrarium, dir);
  responses.forEach((r, i) => console.log(i, JSON.stringify(r)));
}
