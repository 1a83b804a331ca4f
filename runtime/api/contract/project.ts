/**
 * The control API's Design view and code editor: the project laid out, its
 * files, the Workers types for the editor, classes added from templates,
 * renamed, deleted or given new code, and terrarium.json's settings. Part of
 * ControlApi (../contract.ts); the schemas parse what crosses a bridge.
 */
import { z } from "zod";
import type { ProjectFile, SourceFile } from "../../config/project-files.ts";
import { identifier, none } from "./common.ts";
import type { UpdateResult } from "./inspector.ts";

export type { ProjectFile, SourceFile };

/** A path inside the project folder, relative and with forward slashes (`src/counter.ts`). */
export const projectPath = z
  .string()
  .min(1)
  .max(1024)
  .refine((p) => !p.startsWith("/") && !/^[A-Za-z]:/.test(p) && !p.split(/[\\/]/).includes(".."), {
    message: "a path relative to the project folder, without ..",
  });

export const projectFileSchemas = {
  path: projectPath,
  write: z
    .object({
      path: projectPath,
      text: z.string().max(2 * 1024 * 1024),
    })
    .strict(),
} as const;

export type ProjectFileWrite = z.infer<typeof projectFileSchemas.write>;

export interface EditorTypes {
  /** The `Env` declaration generated from the wrangler config (worker-configuration.d.ts). */
  env: string;
  /** @cloudflare/workers-types' index.d.ts: the project's own copy, else Terrarium's; null when neither is installed. */
  workers: { source: "project" | "terrarium"; version: string; text: string } | null;
}

export const templateSchemas = {
  addClass: z
    .object({
      template: z.string().regex(/^[a-z0-9-]{1,64}$/, "a template id as templates() lists it"),
      className: identifier,
      binding: identifier,
    })
    .strict(),
} as const;

export type AddClassSpec = z.infer<typeof templateSchemas.addClass>;

/** A class's whole new source, for the file that declares it (an agent's or a script's edit). */
export const codeSchemas = {
  updateClassCode: z
    .object({
      className: identifier,
      code: z
        .string()
        .min(1)
        .max(2 * 1024 * 1024),
    })
    .strict(),
} as const;

export type UpdateClassCodeSpec = z.infer<typeof codeSchemas.updateClassCode>;

/** What updateClassCode did: the file it wrote and the live update that followed. */
export interface ClassCodeResult extends UpdateResult {
  /** The file that declares the class, relative to the project folder. */
  path: string;
  /** False when the update was refused: the file was put back as it was. */
  written: boolean;
}

const timeout = z
  .number()
  .int()
  .min(0)
  .max(7 * 24 * 3600 * 1000)
  .nullable();
const policyEdit = z
  .object({ idleAfterMs: timeout.optional(), hibernateAfterMs: timeout.optional() })
  .strict();

/** The Design view's changes to the project (the engine checks them again against the project's schema). */
export const designSchemas = {
  renameClass: z.object({ from: identifier, to: identifier }).strict(),
  deleteClass: z.object({ className: identifier }).strict(),
  saveSettings: z
    .object({
      routes: z.array(z.record(z.string(), z.unknown())).max(1_000).optional(),
      subscriptions: z.array(z.record(z.string(), z.unknown())).max(1_000).optional(),
      lifecycle: policyEdit.optional(),
      classes: z
        .record(
          identifier,
          z
            .object({
              kind: z.string().max(100).nullable().optional(),
              notes: z.string().max(2_000).nullable().optional(),
              lifecycle: policyEdit.optional(),
            })
            .strict(),
        )
        .optional(),
    })
    .strict(),
} as const;

export type RenameClassSpec = z.infer<typeof designSchemas.renameClass>;
export type DeleteClassSpec = z.infer<typeof designSchemas.deleteClass>;
export type SettingsSpec = z.infer<typeof designSchemas.saveSettings>;

/** What renaming or deleting a class changed. */
export interface ClassChangeInfo {
  /** Project files written, relative to the project folder. */
  files: string[];
  notes: string[];
  /** Objects of the class moved (rename) or deleted (delete). */
  objects: number;
}

/** Idle and hibernation timeouts as terrarium.json sets them (absent: the default applies). */
export interface PolicyInfo {
  idleAfterMs?: number;
  hibernateAfterMs?: number;
}

/** An object template (resources/templates) as the Design view offers it. */
export interface TemplateInfo {
  id: string;
  kind: string;
  className: string;
  binding: string;
  description: string;
  /** env bindings the class reads. */
  uses: string[];
  routes: { pattern: string; object: string }[];
  subscriptions: { topic: string; object: string; method: string }[];
  publishes: string[];
}

export interface AddClassResult {
  className: string;
  binding: string;
  /** Files written or changed, relative to the project folder. */
  files: string[];
  notes: string[];
}

/** What the Design view draws: the project's classes, routes, subscriptions and external systems. */
export interface DesignInfo {
  name: string;
  /** The entry Worker's source, relative to the project folder (null: an assets-only project). */
  main: string | null;
  configFile: string;
  classes: {
    className: string;
    bindings: string[];
    kind: string | null;
    notes: string | null;
    /** The file that declares `class <className>`, when one does. */
    sourceFile: string | null;
    /** The class's own timeouts from terrarium.json. */
    lifecycle: PolicyInfo;
    /** Objects of the class the registry knows (a rename moves them, a delete deletes them). */
    objects: number;
  }[];
  /** The project-wide timeouts from terrarium.json, and the values in force where neither sets one. */
  lifecycle: PolicyInfo;
  defaultLifecycle: Required<PolicyInfo>;
  routes: { pattern: string; method: string[] | null; binding: string; object: string }[];
  subscriptions: { topic: string; binding: string; object: string; method: string }[];
  /** Configured bindings besides Durable Objects; for a secret (.dev.vars), detail names its file, never its value. */
  external: {
    kind: "d1" | "r2" | "kv" | "queue" | "email" | "ai-stand-in" | "remote" | "vars";
    binding: string;
    detail: string | null;
  }[];
  eventBusBinding: string | null;
  /** The named environment that runs (`--env`), or null. */
  env: string | null;
  /**
   * Every Worker that runs (the project's own first; `-c` adds more), and
   * each one's service bindings; `running` is false for a Worker a binding
   * names that the project does not run.
   */
  workers: {
    name: string;
    configFile: string | null;
    running: boolean;
    services: { binding: string; service: string; entrypoint: string | null }[];
  }[];
  /** The static assets (wrangler's `assets`), or null when the project has none. */
  assets: {
    /** Relative to the project, ending in "/". */
    directory: string;
    binding: string | null;
    htmlHandling: string;
    notFoundHandling: string;
    runWorkerFirst: boolean | string[];
  } | null;
}

export interface ProjectControlApi {
  /** The project laid out for the Design view. */
  design(): Promise<DesignInfo>;
  /** The project's own files (sources and configuration), without data, dependencies or VCS folders. */
  listFiles(): Promise<ProjectFile[]>;
  readFile(path: string): Promise<SourceFile>;
  /** Writes a text file inside the project folder, creating its folder when needed. */
  writeFile(file: ProjectFileWrite): Promise<ProjectFile>;
  /** What the code editor's TypeScript needs: the Workers runtime types and the project's `Env`. */
  editorTypes(): Promise<EditorTypes>;
  /** Writes the project's `Env` declaration to worker-configuration.d.ts, as `terrarium types` does. */
  writeEnvTypes(): Promise<ProjectFile>;
  /** The object templates, one per kind of the AIDevOS design. */
  templates(): Promise<TemplateInfo[]>;
  /**
   * Adds a class from a template: its file, its export from the entry, a
   * binding and migration in the wrangler config, its kind, routes and
   * subscriptions in terrarium.json. The engine reloads as for any saved change.
   */
  addClass(spec: AddClassSpec): Promise<AddClassResult>;
  /**
   * Replaces the source of the file that declares a class and moves its live
   * objects to the new code (Updating), answering when that is done. Code
   * that fails to build or load is refused with the error, the file is put
   * back as it was, and the old code keeps serving.
   */
  updateClassCode(spec: UpdateClassCodeSpec): Promise<ClassCodeResult>;
  /**
   * Renames a class: code, wrangler bindings with a renamed_classes
   * migration, terrarium.json; its objects move with their storage.
   */
  renameClass(spec: RenameClassSpec): Promise<ClassChangeInfo>;
  /** Deletes a class: binding and export gone, a deleted_classes migration; its objects are deleted. */
  deleteClass(spec: DeleteClassSpec): Promise<ClassChangeInfo>;
  /** Saves routes, subscriptions and timeouts to terrarium.json; the engine applies them at once. */
  saveSettings(spec: SettingsSpec): Promise<{ files: string[] }>;
}

export const projectCallSchemas = {
  design: none,
  listFiles: none,
  readFile: z.tuple([projectFileSchemas.path]),
  writeFile: z.tuple([projectFileSchemas.write]),
  editorTypes: none,
  writeEnvTypes: none,
  templates: none,
  addClass: z.tuple([templateSchemas.addClass]),
  updateClassCode: z.tuple([codeSchemas.updateClassCode]),
  renameClass: z.tuple([designSchemas.renameClass]),
  deleteClass: z.tuple([designSchemas.deleteClass]),
  saveSettings: z.tuple([designSchemas.saveSettings]),
} as const;
