// The installed Electron binary, or null when there is none.
// NOTE: not `require("electron")`: with no binary, that starts the download
// itself and throws when it fails. The package records the binary's path in
// path.txt once the download has succeeded.
import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";

const require = createRequire(import.meta.url);

export function electronBinary() {
  if (process.env.ELECTRON_EXEC_PATH) return process.env.ELECTRON_EXEC_PATH;
  let packageDir;
  try {
    packageDir = dirname(require.resolve("electron/package.json"));
  } catch {
    return null;
  }
  const pathFile = join(packageDir, "path.txt");
  if (!existsSync(pathFile)) return null;
  const binary = join(packageDir, "dist", readFileSync(pathFile, "utf8").trim());
  return existsSync(binary) ? binary : null;
}
