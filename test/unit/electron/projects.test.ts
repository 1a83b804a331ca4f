import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { PROJECT_TEMPLATES, RecentProjects } from "../../../electron/projects.ts";
import { SAMPLES } from "../../../runtime/templates/new-project.ts";

let root: string;

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), "terrarium-projects-"));
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

function project(name: string): string {
  const dir = join(root, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "wrangler.jsonc"), "{}");
  return dir;
}

describe("new project from a template", () => {
  it("offers exactly the samples `terrarium new` creates projects from", () => {
    expect(PROJECT_TEMPLATES.map((t) => t.id).sort()).toEqual(Object.keys(SAMPLES).sort());
  });
});

describe("recent projects", () => {
  it("keeps the ten most recent, newest first, without duplicates, across instances", () => {
    const file = join(root, "user-data", "recent-projects.json");
    const dirs = Array.from({ length: 12 }, (_, i) => project(`p${i}`));
    const recent = new RecentProjects(file);
    for (const d of dirs) recent.add(d);
    recent.add(dirs[5]!);
    const list = new RecentProjects(file).list();
    expect(list).toHaveLength(10);
    expect(list.slice(0, 3)).toEqual([dirs[5], dirs[11], dirs[10]]);
    expect(new Set(list).size).toBe(10);
  });

  it("leaves out folders that are no longer projects, and survives a damaged file", () => {
    const file = join(root, "recent.json");
    const recent = new RecentProjects(file);
    const kept = project("kept");
    const gone = project("gone");
    recent.add(gone);
    recent.add(kept);
    rmSync(gone, { recursive: true });
    expect(recent.list()).toEqual([kept]);
    writeFileSync(file, "{not json");
    expect(recent.list()).toEqual([]);
    recent.add(kept);
    recent.clear();
    expect(recent.list()).toEqual([]);
  });
});
