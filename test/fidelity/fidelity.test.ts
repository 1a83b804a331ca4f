import { readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  PROJECTS_DIR,
  recordProject,
  startTerrarium,
  startWorkerd,
  type RecordedResponse,
} from "./harness.ts";
import { KNOWN_GAPS } from "./known-gaps.ts";

/**
 * Each project under projects/ is a small wrangler project with a request
 * script. workerd (through Miniflare) is the reference: Terrarium must give
 * the same status, content type and body for every request.
 */
const TIMEOUT_MS = 60_000;

const projects = readdirSync(PROJECTS_DIR, { withFileTypes: true })
  .filter((entry) => entry.isDirectory())
  .map((entry) => entry.name)
  .sort();

describe.each(projects)("fidelity: %s", (project) => {
  const dir = join(PROJECTS_DIR, project);
  let reference: RecordedResponse[] | undefined;

  it(
    "runs its script under workerd without server errors",
    async () => {
      reference = await recordProject(startWorkerd, dir);
      // Every endpoint catches what it expects to fail, so a 5xx here is a
      // broken project, not a behaviour worth comparing (unless its step
      // says the 5xx is the behaviour: `"serverError": true`).
      expect(reference.filter((r) => r.status >= 500 && !r.serverError)).toEqual([]);
    },
    TIMEOUT_MS,
  );

  const gap = KNOWN_GAPS[project];
  (gap ? it.fails : it)(
    gap ? `differs from workerd (known gap: ${gap})` : "answers the script under Terrarium as workerd does",
    async () => {
      const expected = reference ?? (await recordProject(startWorkerd, dir));
      const actual = await recordProject(startTerrarium, dir);
      expect(actual).toEqual(expected);
    },
    TIMEOUT_MS,
  );
});
