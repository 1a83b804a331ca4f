import { NON_INHERITABLE_KEYS } from "../config/environments.ts";

const NON_INHERITABLE = new Set<string>(NON_INHERITABLE_KEYS);

/**
 * The exported wrangler config of a project that ran in a named
 * environment (`terrarium export --env NAME`), so that `wrangler deploy
 * --env NAME` deploys what ran: the keys environments inherit (main,
 * compatibility, migrations, assets, ...) at the top level, the ones they
 * do not (vars, bindings, define) in `env.NAME`, and the Worker's name
 * where it gives the same `<name>-<env>` (or the section's own name).
 * The project's other environments are not exported.
 */
export function environmentConfig(
  config: Record<string, unknown>,
  env: string,
  names: { topLevel: string; worker: string },
): Record<string, unknown> {
  const top: Record<string, unknown> = {};
  const section: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(config)) {
    if (k === "env") continue;
    if (NON_INHERITABLE.has(k)) section[k] = v;
    else top[k] = v;
  }
  top.name = names.topLevel;
  if (names.worker !== `${names.topLevel}-${env}`) section.name = names.worker;
  return { ...top, env: { [env]: section } };
}
