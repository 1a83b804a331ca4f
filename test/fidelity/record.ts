import { join } from "node:path";
import { PROJECTS_DIR, recordProject, startTerrarium, startWorkerd } from "./harness.ts";

/**
 * Prints a project's recorded responses, for writing and debugging the
 * fidelity projects:
 *   npx tsx test/fidelity/record.ts <project> [workerd|terrarium]
 */
const [project, runtime = "workerd"] = process.argv.slice(2);
if (project === undefined || (runtime !== "workerd" && runtime !== "terrarium")) {
  console.error("usage: tsx test/fidelity/record.ts <project> [workerd|terrarium]");
  process.exit(2);
}
const responses = await recordProject(runtime === "workerd" ? startWorkerd : startTerrarium, join(PROJECTS_DIR, project));
responses.forEach((r, i) => console.log(i, JSON.stringify(r)));
