import { describe, expect, it } from "vitest";
import { contentTypeFor } from "../../../runtime/assets/content-types.ts";

describe("asset content types", () => {
  it.each([
    ["/index.html", "text/html; charset=utf-8"],
    ["/a/STYLE.CSS", "text/css; charset=utf-8"],
    ["/app.mjs", "text/javascript; charset=utf-8"],
    ["/data.json", "application/json"],
    ["/logo.svg", "image/svg+xml"],
    ["/font.woff2", "font/woff2"],
    ["/module.wasm", "application/wasm"],
    ["/LICENSE", null],
    ["/.css", null],
    ["/archive.unknown", null],
  ])("%s: %s", (path, expected) => {
    expect(contentTypeFor(path)).toBe(expected);
  });
});
