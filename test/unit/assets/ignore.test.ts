import { describe, expect, it } from "vitest";
import { ignoreMatcher } from "../../../runtime/assets/ignore.ts";

describe(".assetsignore patterns", () => {
  const ignored = ignoreMatcher([
    "# comments and blank lines are skipped",
    "",
    "secret.txt",
    "/root-only.txt",
    "drafts/",
    "*.map",
    "!keep.map",
    "docs/**/*.md",
  ]);

  it.each([
    ["secret.txt", true],
    ["a/b/secret.txt", true],
    ["root-only.txt", true],
    ["a/root-only.txt", false],
    ["drafts/post.html", true],
    ["a/drafts/post.html", true],
    ["drafts", false],
    ["app.js.map", true],
    ["js/app.js.map", true],
    ["keep.map", false],
    ["docs/guide.md", true],
    ["docs/a/b/guide.md", true],
    ["other/docs/guide.md", false],
    ["index.html", false],
    ["# comments and blank lines are skipped", false],
  ])("%s: %s", (path, expected) => {
    expect(ignored(path)).toBe(expected);
  });
});
