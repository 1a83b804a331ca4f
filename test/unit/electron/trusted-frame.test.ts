import { describe, expect, it } from "vitest";
import { isAppPage } from "../../../electron/trusted-frame.ts";

const BUILT = { rendererUrl: "file:///app/out/renderer/index.html" };
const DEV = { rendererUrl: BUILT.rendererUrl, devServerUrl: "http://localhost:5173" };

// The sender-frame check behind every control IPC call (electron/main.ts's
// `trusted`, with its own-window check on top): which pages count as the app.
describe("isAppPage", () => {
  it.each([
    "file:///app/out/renderer/index.html",
    "file:///app/out/renderer/index.html?project=x",
    "file:///app/out/renderer/index.html#/inspector",
  ])("accepts the built renderer in the top frame (%s)", (url) => {
    expect(isAppPage(url, true, BUILT)).toBe(true);
  });

  it.each([
    ["a subframe of the app's page", "file:///app/out/renderer/index.html", false],
    ["a frame with no URL", null, true],
    ["a file beside the renderer", "file:///app/out/renderer/other.html", true],
    ["a look-alike file name", "file:///app/out/renderer/index.html.evil", true],
    ["a path through the renderer", "file:///app/out/renderer/index.html/../../evil.html", true],
    ["another origin", "https://evil.example/", true],
    ["the dev server's URL in a build", "http://localhost:5173/", true],
  ] as const)("refuses %s", (_what, url, top) => {
    expect(isAppPage(url, top, BUILT)).toBe(false);
  });

  it("accepts only the dev server's origin in development", () => {
    expect(isAppPage("http://localhost:5173/", true, DEV)).toBe(true);
    expect(isAppPage("http://localhost:5173/index.html?x", true, DEV)).toBe(true);
    for (const url of [
      "http://localhost:5173.evil.example/",
      "http://localhost:5173@evil.example/",
      "http://localhost:5174/",
      "https://localhost:5173/",
      "file:///app/out/renderer/index.html",
    ]) {
      expect(isAppPage(url, true, DEV), url).toBe(false);
    }
    expect(isAppPage("http://localhost:5173/", false, DEV)).toBe(false);
  });
});
