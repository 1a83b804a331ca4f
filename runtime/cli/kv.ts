import { readFileSync } from "node:fs";
import { join } from "node:path";
import { KVNamespace } from "../bindings/kv.ts";
import { kvStores, type KVStore } from "../bindings/stores.ts";
import { ProjectError } from "../config/errors.ts";
import { loadProject } from "../config/project.ts";
import { fail, intFlag, openFlags } from "./common.ts";
import { parseCommand, UsageError, usageError } from "./commands.ts";

const ACTIONS = ["list", "get", "put", "delete"] as const;
type Action = (typeof ACTIONS)[number];

/**
 * `terrarium kv list|get|put|delete [projectDir]`: a KV namespace of the
 * project in its data folder, as `wrangler kv key ... --local` does. It
 * goes through the binding's own class (its limits and workerd's errors) on
 * the same SQLite file, so it is safe while a Terrarium serves the folder.
 */
export async function kvCommand(argv: string[]): Promise<void> {
  const { values, positionals: all } = parseCommand("kv", argv);
  const [action, ...positionals] = all;
  if (!ACTIONS.includes(action as Action))
    usageError(`needs an action: terrarium kv ${ACTIONS.join("|")} [projectDir] (got "${action ?? ""}")`);
  const open = openFlags(positionals, values);
  let stores: { worker: string; store: KVStore }[];
  let dataDir: string;
  try {
    const project = loadProject(open.projectDir, open.options);
    dataDir = open.data ?? join(project.dir, ".terrarium");
    stores = [project.wrangler, ...project.workers.map((w) => w.wrangler)].flatMap((w) =>
      kvStores({ wrangler: w }, dataDir).map((store) => ({ worker: w.name, store })),
    );
  } catch (e) {
    if (e instanceof ProjectError) fail(e.message);
    throw e;
  }
  const names = [...new Set(stores.map((s) => s.store.binding))].join(", ");
  const matches = stores.filter((s) =>
    values["namespace-id"] !== undefined
      ? s.store.name === values["namespace-id"]
      : values.binding === undefined || s.store.binding === values.binding,
  );
  if (stores.length === 0) fail("the project binds no KV namespace (kv_namespaces)");
  if (matches.length === 0)
    usageError(
      `no KV namespace bound as ${values.binding ?? values["namespace-id"]}; the project binds ${names}`,
    );
  if (new Set(matches.map((m) => m.store.path)).size > 1)
    usageError(`the project binds several KV namespaces (${names}): pick one with --binding`);
  const kv = new KVNamespace(matches[0]!.store.path);
  const key = (): string => {
    if (values.key === undefined) usageError(`${action} needs --key`);
    return values.key;
  };
  try {
    switch (action as Action) {
      case "list": {
        const limit = intFlag(values.limit, "limit");
        const page = await kv.list({
          prefix: values.prefix ?? null,
          cursor: values.cursor ?? null,
          ...(limit !== undefined ? { limit } : {}),
        });
        if (values.json) {
          process.stdout.write(`${JSON.stringify(page, null, 2)}\n`);
        } else {
          for (const k of page.keys) {
            const exp =
              k.expiration === undefined ? "" : `\texpires ${new Date(k.expiration * 1000).toISOString()}`;
            const meta = k.metadata === undefined ? "" : `\t${JSON.stringify(k.metadata)}`;
            process.stdout.write(`${k.name}${exp}${meta}\n`);
          }
          if (!page.list_complete) process.stderr.write(`more keys: --cursor ${page.cursor}\n`);
        }
        return;
      }
      case "get": {
        const entry = kv.entry(key());
        if (!entry) fail(`no key ${values.key}`);
        if (values.json) {
          let text: string | null = null;
          try {
            text = new TextDecoder("utf-8", { fatal: true }).decode(entry.value);
          } catch {
            text = null;
          }
          process.stdout.write(
            `${JSON.stringify(
              {
                key: values.key,
                size: entry.value.byteLength,
                expiration: entry.expiration,
                metadata: entry.metadata,
                ...(text !== null ? { value: text } : { base64: entry.value.toString("base64") }),
              },
              null,
              2,
            )}\n`,
          );
        } else {
          process.stdout.write(entry.value);
        }
        return;
      }
      case "put": {
        if ((values.value === undefined) === (values.path === undefined))
          usageError("put needs --value TEXT or --path FILE (one of them)");
        const value = values.path !== undefined ? new Uint8Array(readFileSync(values.path)) : values.value!;
        let metadata: unknown;
        if (values.metadata !== undefined) {
          try {
            metadata = JSON.parse(values.metadata) as unknown;
          } catch {
            usageError(`--metadata needs JSON, got ${values.metadata}`);
          }
        }
        const ttl = intFlag(values.ttl, "ttl");
        const expiration = intFlag(values.expiration, "expiration");
        if (ttl !== undefined && expiration !== undefined) usageError("give --ttl or --expiration, not both");
        await kv.put(key(), value, {
          ...(metadata !== undefined ? { metadata } : {}),
          ...(ttl !== undefined ? { expirationTtl: ttl } : {}),
          ...(expiration !== undefined ? { expiration } : {}),
        });
        process.stdout.write(`Put ${values.key} in ${matches[0]!.store.binding}\n`);
        return;
      }
      case "delete":
        await kv.delete(key());
        process.stdout.write(`Deleted ${values.key} from ${matches[0]!.store.binding}\n`);
        return;
    }
  } catch (e) {
    if (e instanceof UsageError) throw e;
    fail(e instanceof Error ? e.message : String(e));
  } finally {
    kv.close();
  }
}
