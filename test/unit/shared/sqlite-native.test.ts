import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import {
  electronBindingPath,
  nativeBinding,
  SQLITE_BINDING_ENV,
} from "../../../runtime/shared/sqlite-native.ts";

const node = { ...process.versions };
const electron = { ...process.versions, electron: "45.1.0", modules: "140" } as NodeJS.ProcessVersions;
let root: string | null = null;

afterEach(() => {
  if (root) rmSync(root, { recursive: true, force: true });
  root = null;
});

describe("better-sqlite3's native binding per runtime", () => {
  it("uses the package's own (Node) build under Node", () => {
    expect(nativeBinding(node, { [SQLITE_BINDING_ENV]: "/somewhere/else.node" })).toBeUndefined();
  });

  it("uses the Electron build the main process names, kept per ABI beside the Node build", () => {
    root = mkdtempSync(join(tmpdir(), "terrarium-native-"));
    const path = electronBindingPath(root, "140");
    expect(path).toBe(
      join(
        root,
        "node_modules",
        ".cache",
        "terrarium",
        "better-sqlite3-electron-abi140",
        "better_sqlite3.node",
      ),
    );
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, "");
    expect(nativeBinding(electron, { [SQLITE_BINDING_ENV]: path })).toBe(path);
  });

  it("says how to build it when Electron's build is missing", () => {
    expect(() => nativeBinding(electron, {})).toThrow(
      "better-sqlite3 is not built for Electron 45.1.0 (ABI 140); run `npm run rebuild:electron`",
    );
    expect(() => nativeBinding(electron, { [SQLITE_BINDING_ENV]: "/nope/better_sqlite3.node" })).toThrow(
      /at \/nope\/better_sqlite3\.node; run `npm run rebuild:electron`/,
    );
  });
});
