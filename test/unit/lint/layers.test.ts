import { readdirSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import { ESLint } from "eslint";
import { describe, expect, it } from "vitest";
// @ts-expect-error: eslint.config.js is plain JavaScript with JSDoc, not typed for import.
import { RENDERER_SHARED, RUNTIME_LAYERS } from "../../../eslint.config.js";

// The layer rule of eslint.config.js, run through ESLint's Node API on
// snippets linted as if they were files in runtime/: an import from a layer
// above is an error that names both layers; one from below is clean.

const ROOT = resolve(import.meta.dirname, "..", "..", "..");
const RULE = "@typescript-eslint/no-restricted-imports";
const eslint = new ESLint({ cwd: ROOT });

async function layerErrors(file: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: resolve(ROOT, file) });
  return result!.messages.filter((m) => m.ruleId === RULE).map((m) => m.message);
}

describe("the layer rule (runtime/ in layers, eslint.config.js)", () => {
  it("gives every folder and file of runtime/ a layer", () => {
    const placed = (RUNTIME_LAYERS as { folders: string[] }[]).flatMap((l) => l.folders).sort();
    const present = readdirSync(resolve(ROOT, "runtime"), { withFileTypes: true })
      .filter((d) => d.isDirectory() || d.name.endsWith(".ts"))
      .map((d) => d.name)
      .sort();
    expect(placed).toEqual(present);
  });

  it("refuses an import from a layer above, naming both", async () => {
    expect(
      await layerErrors(
        "runtime/shared/probe.ts",
        'import type { ObjectRecord } from "../registry/registry.ts";\nexport type X = ObjectRecord;\n',
      ),
    ).toEqual([expect.stringMatching(/shared stands below registry and state.*runtime\/registry/)]);
    expect(
      await layerErrors(
        "runtime/lifecycle/probe.ts",
        'import { SocketHub } from "../router/sockets.ts";\nexport const x = SocketHub;\n',
      ),
    ).toEqual([expect.stringMatching(/lifecycle stands below router, event bus, queues, workflows/)]);
    expect(
      await layerErrors(
        "runtime/registry/probe.ts",
        'import { Engine } from "../engine.ts";\nexport const x = Engine;\n',
      ),
    ).toEqual([expect.stringMatching(/registry and state stands below engine/)]);
    expect(
      await layerErrors(
        "runtime/host/deeper/probe.ts",
        'import { parseDuration } from "../../load/profile.ts";\nexport const x = parseDuration;\n',
      ),
    ).toEqual([expect.stringMatching(/host stands below tools/)]);
  });

  it("keeps the engine to wiring: it never imports the tools or the API", async () => {
    expect(
      await layerErrors(
        "runtime/engine.ts",
        'import { controlApi } from "./api/control-api.ts";\nimport { LoadConsole } from "./load/console.ts";\nexport const x = [controlApi, LoadConsole];\n',
      ),
    ).toEqual([
      expect.stringMatching(/engine is wiring only.*runtime\/api/),
      expect.stringMatching(/engine is wiring only.*runtime\/load/),
    ]);
  });

  it("lets a layer import its own layer and the layers below", async () => {
    expect(
      await layerErrors(
        "runtime/router/probe.ts",
        [
          'import { idFromName } from "../shared/ids.ts";',
          'import type { LifecycleManager } from "../lifecycle/lifecycle.ts";',
          'import type { EventBus } from "../event-bus/event-bus.ts";',
          'import { compileRoute } from "./routes.ts";',
          "export const x = [idFromName, compileRoute];",
          "export type Y = [LifecycleManager, EventBus];",
          "",
        ].join("\n"),
      ),
    ).toEqual([]);
    expect(
      await layerErrors(
        "runtime/api/probe.ts",
        'import { Engine } from "../engine.ts";\nimport { exportProject } from "../export/exporter.ts";\nexport const x = [Engine, exportProject];\n',
      ),
    ).toEqual([]);
  });
});

describe("what the renderer imports from runtime/", () => {
  it("takes the lifecycle model and object kinds from runtime/shared as values, nothing else", async () => {
    const view = "renderer/src/views/probe.tsx";
    expect(
      await layerErrors(
        view,
        'import { LIFECYCLE_STATES } from "../../../runtime/shared/lifecycle-model.ts";\nimport { OBJECT_KINDS } from "../../../runtime/shared/object-kinds.ts";\nexport const x = [LIFECYCLE_STATES, OBJECT_KINDS];\n',
      ),
    ).toEqual([]);
    expect(
      await layerErrors(
        view,
        'import { EngineEvents } from "../../../runtime/shared/events.ts";\nimport { idFromName } from "../../../runtime/shared/ids.ts";\nexport const x = [EngineEvents, idFromName];\n',
      ),
    ).toEqual([
      expect.stringMatching(/only through the contract/),
      expect.stringMatching(/only through the contract/),
    ]);
    expect(
      await layerErrors(
        view,
        'import { controlApi } from "../../../runtime/api/control-api.ts";\nexport const x = controlApi;\n',
      ),
    ).toEqual([expect.stringMatching(/only through the contract/)]);
  });

  it("are plain data: the files the renderer may import import nothing", () => {
    expect(RENDERER_SHARED.length).toBeGreaterThan(0);
    for (const file of RENDERER_SHARED as string[]) {
      const text = readFileSync(resolve(ROOT, "runtime", "shared", file), "utf8");
      expect(text, file).not.toMatch(/^\s*import\s/m);
      expect(text, file).not.toMatch(/^\s*export\s[^\n]*\sfrom\s+["']/m);
      expect(text, file).not.toMatch(/\bimport\(|\brequire\(/);
    }
  });
});
