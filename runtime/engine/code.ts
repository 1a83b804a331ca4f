import { assetsSpec } from "../assets/asset-server.ts";
import { analyticsDatasets } from "../bindings/analytics-engine.ts";
import { d1Stores, kvStores, r2Stores, remoteOnlyBindings } from "../bindings/stores.ts";
import { versionMetadata, versionMetadataBinding } from "../bindings/version-metadata.ts";
import type { Bundle, HostBundles } from "../build/bundler.ts";
import type { Project } from "../config/project.ts";
import type { TerrariumConfig } from "../config/terrarium.ts";
import { queuesConfig } from "../config/queues.ts";
import { rateLimitBindings } from "../config/ratelimits.ts";
import type { WranglerProject } from "../config/wrangler.ts";
import { workflowBindings } from "../config/workflows.ts";
import { sendEmailBindings } from "../bindings/send-email.ts";
import type { CodeSpec } from "../host/protocol.ts";
import type { CodeVersion, LifecycleOptions, LifecyclePolicy } from "../lifecycle/lifecycle.ts";
import type { ClassInfo } from "../registry/registry.ts";
import { AssetRouting } from "../router/assets.ts";

// What the engine reads out of a project to run it: each Worker's code
// version as the workers load it, the classes, the lifecycle timeouts and
// the asset routing. Used at start and on every reload.

/** `version_metadata`'s binding, as a value in env (runtime/bindings/version-metadata.ts). */
function versionVars(raw: Record<string, unknown>, bundlePath: string): Record<string, unknown> {
  const binding = versionMetadataBinding(raw);
  return binding ? { [binding]: versionMetadata(bundlePath) } : {};
}

/** One version of the project's code as the workers load it. */
export function codeVersion(
  project: Project,
  bundle: Bundle,
  hosts: HostBundles,
  dataDir: string,
): CodeVersion {
  return workerCode(project.wrangler, project.devVars.values, project, bundle, hosts, dataDir);
}

/**
 * One version of a Worker's code: the project's own (`design` holds its
 * terrarium.json: Event Bus, mocks) or another of its Workers (-c).
 * `ai` is the project's terrarium.json `ai` setting, which every Worker of
 * the project follows: with `standIn`, each Worker's Workers AI bindings are
 * answered by the local stand-in.
 */
export function workerCode(
  w: WranglerProject,
  secrets: Readonly<Record<string, string>>,
  design: Project | null,
  bundle: Bundle,
  hosts: HostBundles,
  dataDir: string,
  ai: TerrariumConfig["ai"] = design?.terrarium.ai,
  overrides: Readonly<Record<string, string>> = design?.varOverrides ?? {},
): CodeVersion {
  const stores = { wrangler: w };
  const remote = remoteOnlyBindings(stores);
  const standIn = ai?.standIn ? remote.filter((r) => r.kind === "ai") : [];
  const spec: CodeSpec = {
    bundlePath: bundle.path,
    workerName: w.name,
    compatibilityDate: w.compatibilityDate,
    compatibilityFlags: [...w.compatibilityFlags],
    durableObjects: [
      ...w.durableObjects.map((b) => ({ binding: b.binding, className: b.className })),
      ...w.foreignDurableObjects.map((b) => ({
        binding: b.binding,
        className: b.className,
        scriptName: b.scriptName,
      })),
    ],
    vars: { ...w.vars, ...secrets, ...overrides, ...versionVars(w.raw, bundle.path) },
    eventBusBinding: design?.eventBusBinding ?? null,
    d1Databases: d1Stores(stores, dataDir).map((d) => ({ binding: d.binding, path: d.path })),
    r2Buckets: r2Stores(stores, dataDir).map((r) => ({ binding: r.binding, path: r.path })),
    kvNamespaces: kvStores(stores, dataDir).map((k) => ({ binding: k.binding, path: k.path })),
    queueProducers: queuesConfig(w).producers.map((p) => ({ ...p })),
    remoteOnly: remote.filter((r) => !standIn.includes(r)),
    aiStandIn: standIn.map((r) => ({ binding: r.binding, latencyMs: ai?.latencyMs ?? null })),
    sendEmail: sendEmailBindings(w.raw),
    workflows: workflowBindings(w),
    rateLimits: rateLimitBindings(w),
    analyticsEngine: analyticsDatasets(w.raw),
    mocks: (design?.terrarium.mocks ?? []).map((m) => ({ ...m })),
    assets:
      w.assets?.binding != null
        ? {
            binding: w.assets.binding,
            spec: assetsSpec(w.assets, w.compatibilityDate, w.compatibilityFlags),
          }
        : null,
    services: w.services.map((s) => ({ binding: s.binding })),
  };
  return {
    spec,
    hostFile: hosts.objectWorker,
    entryFile: hosts.entryWorker,
    bindings: new Map(w.durableObjects.map((b) => [b.binding, b.className])),
  };
}

export function assetRouting(project: Project): AssetRouting | null {
  return project.wrangler.assets ? new AssetRouting(project.wrangler) : null;
}

/** The idle and hibernation timeouts: `base`, then terrarium.json's project-wide and per-class values. */
export function projectPolicies(
  project: Project,
  base: LifecyclePolicy,
  baseClasses: LifecycleOptions["classPolicies"] = {},
): Pick<LifecycleOptions, "policy" | "classPolicies"> {
  const tl = project.terrarium.lifecycle;
  const policy = { ...base };
  if (tl?.idleAfterMs !== undefined) policy.idleAfterMs = tl.idleAfterMs;
  if (tl?.hibernateAfterMs !== undefined) policy.hibernateAfterMs = tl.hibernateAfterMs;
  const classPolicies = { ...baseClasses };
  for (const [className, c] of Object.entries(project.terrarium.classes ?? {})) {
    if (!c.lifecycle) continue;
    const p: Partial<LifecyclePolicy> = {};
    if (c.lifecycle.idleAfterMs !== undefined) p.idleAfterMs = c.lifecycle.idleAfterMs;
    if (c.lifecycle.hibernateAfterMs !== undefined) p.hibernateAfterMs = c.lifecycle.hibernateAfterMs;
    classPolicies[className] = { ...classPolicies[className], ...p };
  }
  return { policy, classPolicies };
}

export function classInfos(project: Project): ClassInfo[] {
  const byClass = new Map<string, string[]>();
  for (const b of project.wrangler.durableObjects)
    byClass.set(b.className, [...(byClass.get(b.className) ?? []), b.binding]);
  return [...byClass].map(([className, bindings]) => ({
    className,
    bindings,
    kind: project.terrarium.classes?.[className]?.kind ?? null,
    exported: true,
  }));
}
