import type { Engine } from "../engine.ts";
import { analyticsDatasets } from "../bindings/analytics-engine.ts";
import { KVNamespace } from "../bindings/kv.ts";
import { kvStores } from "../bindings/stores.ts";
import { rateLimitBindings } from "../config/ratelimits.ts";
import type { WranglerProject } from "../config/wrangler.ts";
import { maskText, secretValues } from "./secrets.ts";
import {
  bindingSchemas,
  KV_HEX_BYTES,
  KV_PREVIEW_BYTES,
  type BindingControlApi,
  type KvNamespaceInfo,
  type KvValue,
} from "./contract/bindings.ts";

/** Every running Worker's config, the project's own first. */
function workerConfigs(engine: Engine): WranglerProject[] {
  return [engine.project.wrangler, ...engine.project.workers.map((w) => w.wrangler)];
}

/** How the Inspector shows a stored value: text, JSON or bytes, and a preview of it. */
export function kvValue(
  key: string,
  entry: { value: Buffer; expiration: number | null; metadata: unknown },
): KvValue {
  const { value } = entry;
  const head = value.subarray(0, KV_PREVIEW_BYTES);
  const truncated = value.byteLength > KV_PREVIEW_BYTES;
  const base = {
    key,
    size: value.byteLength,
    expiration: entry.expiration,
    metadata: entry.metadata,
    truncated,
    hex: value.subarray(0, KV_HEX_BYTES).toString("hex"),
  };
  let text: string | null = null;
  try {
    // The whole value is checked (a cut could split a character), then only its start is sent.
    text = new TextDecoder("utf-8", { fatal: true }).decode(value);
    if (truncated) text = text.slice(0, KV_PREVIEW_BYTES);
  } catch {
    text = null;
  }
  if (text === null) return { ...base, kind: "binary", text: null, base64: head.toString("base64") };
  let json = false;
  if (!truncated) {
    try {
      JSON.parse(text);
      json = true;
    } catch {
      json = false;
    }
  }
  return { ...base, kind: json ? "json" : "text", text, base64: null };
}

/**
 * The control API's KV browser, rate limiters and Analytics Engine
 * datasets. KV reads and writes go through the binding's own class on the
 * same SQLite file the workers open (WAL, busy timeout), so an edit made
 * here while the Worker runs follows the binding's rules and limits, and
 * the Worker's next read sees it.
 */
export function bindingMethods(engine: Engine): BindingControlApi {
  const open = new Map<string, KVNamespace>();
  engine.onClosing(async () => {
    for (const ns of open.values()) ns.close();
    open.clear();
  });

  const namespaces = (): (KvNamespaceInfo & { path: string })[] => {
    const byPath = new Map<string, KvNamespaceInfo & { path: string }>();
    for (const w of workerConfigs(engine)) {
      for (const s of kvStores({ wrangler: w }, engine.dataDir)) {
        let ns = byPath.get(s.path);
        if (!ns)
          byPath.set(s.path, (ns = { namespace: s.name, path: s.path, bindings: [], keys: 0, bytes: 0 }));
        ns.bindings.push({ worker: w.name, binding: s.binding });
      }
    }
    return [...byPath.values()];
  };
  const store = (name: string): KVNamespace => {
    const ns = namespaces().find((n) => n.namespace === name);
    if (!ns) throw new Error(`no running Worker binds a KV namespace ${name}`);
    let kv = open.get(ns.path);
    if (!kv) open.set(ns.path, (kv = new KVNamespace(ns.path)));
    return kv;
  };

  return {
    async kvNamespaces() {
      return namespaces().map(({ path: _path, ...ns }) => ({ ...ns, ...store(ns.namespace).stats() }));
    },

    async kvList(q) {
      const p = bindingSchemas.kvList.parse(q);
      const page = await store(p.namespace).list({
        prefix: p.prefix ?? null,
        limit: p.limit ?? 100,
        cursor: p.cursor ?? null,
      });
      return {
        keys: page.keys.map((k) => ({
          name: k.name,
          expiration: k.expiration ?? null,
          metadata: k.metadata ?? null,
        })),
        cursor: page.list_complete ? null : page.cursor,
      };
    },

    async kvGet(q) {
      const p = bindingSchemas.kvGet.parse(q);
      const entry = store(p.namespace).entry(p.key);
      return entry ? kvValue(p.key, entry) : null;
    },

    async kvPut(spec) {
      const p = bindingSchemas.kvPut.parse(spec);
      const value = p.encoding === "base64" ? new Uint8Array(Buffer.from(p.value, "base64")) : p.value;
      await store(p.namespace).put(p.key, value, {
        ...(p.metadata !== undefined ? { metadata: p.metadata } : {}),
        ...(p.expiration !== undefined ? { expiration: p.expiration } : {}),
        ...(p.expirationTtl !== undefined ? { expirationTtl: p.expirationTtl } : {}),
      });
    },

    async kvDelete(q) {
      const p = bindingSchemas.kvDelete.parse(q);
      await store(p.namespace).delete(p.key);
    },

    async rateLimiters() {
      return workerConfigs(engine).flatMap((w) =>
        rateLimitBindings(w).map((r) => ({
          worker: w.name,
          binding: r.binding,
          namespaceId: r.namespaceId,
          limit: r.limit,
          period: r.period,
          ...engine.rateLimits.snapshot(r.binding),
        })),
      );
    },

    async maskTexts(texts) {
      const secrets = secretValues(engine.project);
      return bindingSchemas.maskTexts.parse(texts).map((t) => maskText(t, secrets));
    },

    async analyticsDatasets() {
      const points = engine.dataPoints.list({ limit: Number.MAX_SAFE_INTEGER });
      return workerConfigs(engine).flatMap((w) =>
        analyticsDatasets(w.raw).map((d) => ({
          worker: w.name,
          binding: d.binding,
          dataset: d.dataset,
          points: points.filter((p) => p.binding === d.binding && p.dataset === d.dataset).length,
        })),
      );
    },
  };
}
