import { parseLoadProfile, type LoadProfileConfig } from "../config/terrarium.ts";
import { loadProject } from "../config/project.ts";
import { editJsonc, terrariumText, writeAllOrNothing } from "../design/edit-files.ts";

/**
 * The load profiles terrarium.json holds now, read from disk so a save
 * counts at once, before the engine's watcher reloads the project. While the
 * file is mid-edit or broken, the profiles the engine last read (`lastRead`).
 */
export function readLoadProfiles(
  projectDir: string,
  lastRead?: Record<string, LoadProfileConfig>,
): Record<string, LoadProfileConfig> {
  try {
    return loadProject(projectDir).terrarium.loadProfiles ?? {};
  } catch (e) {
    if (lastRead) return lastRead;
    throw e;
  }
}

/**
 * Saves one load profile under `loadProfiles.<name>` in terrarium.json,
 * creating the file when the project has none and keeping its comments and
 * layout otherwise. The profile is checked as terrarium.json's are, and the
 * whole project is read back before the write stands: a save that would
 * leave the project unopenable is undone and its error thrown.
 */
export function saveLoadProfile(
  projectDir: string,
  name: string,
  value: unknown,
): Record<string, LoadProfileConfig> {
  const profile = parseLoadProfile(value);
  const { path, text } = terrariumText(projectDir);
  return writeAllOrNothing(
    [[path, editJsonc(text, ["loadProfiles", name], profile)]],
    () => loadProject(projectDir).terrarium.loadProfiles ?? {},
  );
}
