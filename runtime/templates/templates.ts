import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { z } from "zod";
import { OBJECT_KINDS } from "../shared/object-kinds.ts";

export const RESOURCES = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..", "resources");

/** resources/templates: one folder per object kind, with its template.json. */
export const TEMPLATES_DIR = join(RESOURCES, "templates");

/**
 * The templates' class files are the AIDevOS sample's own (one copy, so the
 * template a user adds is exactly the class the sample runs and tests).
 */
export const TEMPLATE_SOURCES_DIR = join(RESOURCES, "samples", "aidevos", "src");

const identifier = z.string().regex(/^[A-Za-z_$][A-Za-z0-9_$]*$/);

const templateSchema = z
  .object({
    kind: z.enum(OBJECT_KINDS),
    /** The class the file exports; rename it when adding a second one. */
    className: identifier,
    /** A suggested Durable Object binding name. */
    binding: identifier,
    file: z.string().regex(/^[\w.-]+\.ts$/),
    description: z.string().min(1),
    /** env bindings and vars the class reads (other objects, DB, FILES, EVENTS, ...). */
    uses: z.array(identifier),
    /** Suggested terrarium.json routes to this class (binding filled in when added). */
    routes: z
      .array(z.object({ pattern: z.string().startsWith("/"), object: z.string().min(1) }).strict())
      .optional(),
    /** Suggested subscriptions of this class. */
    subscriptions: z
      .array(z.object({ topic: z.string().min(1), object: z.string().min(1), method: identifier }).strict())
      .optional(),
    /** Topics the class publishes on the Event Bus. */
    publishes: z.array(z.string().min(1)).optional(),
  })
  .strict();

export type ObjectTemplate = z.infer<typeof templateSchema> & {
  /** The template's folder name. */
  id: string;
  /** The class file's text, to write into a project. */
  source: string;
};

/**
 * The object templates of the Design view's "add object", one per kind of
 * the AIDevOS design. Each class file is self-contained: it imports only
 * `cloudflare:workers` and declares the env it reads.
 */
export function listTemplates(
  dir: string = TEMPLATES_DIR,
  sources: string = TEMPLATE_SOURCES_DIR,
): ObjectTemplate[] {
  return readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isDirectory())
    .map((e) => e.name)
    .sort()
    .map((id) => {
      const meta = templateSchema.parse(JSON.parse(readFileSync(join(dir, id, "template.json"), "utf8")));
      return { ...meta, id, source: readFileSync(join(sources, meta.file), "utf8") };
    });
}
