import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";

/**
 * wrangler's `version_metadata` binding: `env.<binding>` is
 * `{ id, tag, timestamp }`, as wrangler dev gives it (a UUID, an empty tag,
 * an ISO time). Here a version is the code: the id derives from the bundle,
 * so every worker of one version sees the same id, a saved change that
 * rebuilds different code gets a new id and time, and one that builds the
 * same code keeps them.
 */
export interface VersionMetadata {
  id: string;
  tag: string;
  timestamp: string;
}

const seen = new Map<string, VersionMetadata>();

export function versionMetadata(bundlePath: string, now: () => number = Date.now): VersionMetadata {
  const hash = createHash("sha256").update(readFileSync(bundlePath)).digest("hex");
  let v = seen.get(hash);
  if (!v) {
    const h = hash.slice(0, 32).split("");
    h[12] = "4";
    h[16] = "89ab"[parseInt(h[16]!, 16) % 4]!;
    const s = h.join("");
    v = {
      id: `${s.slice(0, 8)}-${s.slice(8, 12)}-${s.slice(12, 16)}-${s.slice(16, 20)}-${s.slice(20, 32)}`,
      tag: "",
      timestamp: new Date(now()).toISOString(),
    };
    seen.set(hash, v);
  }
  return { ...v };
}

/** The binding's name in a wrangler config's `version_metadata`, if it has one. */
export function versionMetadataBinding(raw: Record<string, unknown>): string | null {
  const v = raw["version_metadata"] as { binding?: unknown } | undefined;
  return typeof v?.binding === "string" && v.binding !== "" ? v.binding : null;
}
