import { useEffect, useState } from "react";
import { useShallow } from "zustand/react/shallow";
import type { KvKeyInfo, KvValue } from "../../../../runtime/api/contract.ts";
import { CursorPager } from "../../components/cursor-pager.tsx";
import { formatBytes, pluralize } from "../../components/format.ts";
import { usePoll } from "../../components/use-poll.ts";
import { useKvStore } from "../../stores/kv.ts";

function expiryText(expiration: number | null): string {
  if (expiration === null) return "never";
  const left = expiration * 1000 - Date.now();
  const at = new Date(expiration * 1000).toLocaleString();
  if (left <= 0) return `${at} (expired)`;
  const s = Math.round(left / 1000);
  const rel = s < 120 ? `${s} s` : s < 7200 ? `${Math.round(s / 60)} min` : `${Math.round(s / 3600)} h`;
  return `${at} (in ${rel})`;
}

const metadataText = (m: unknown): string => (m === null || m === undefined ? "" : JSON.stringify(m));

type ExpiryMode = "never" | "ttl" | "at";

interface Draft {
  /** null: a new key. */
  editing: string | null;
  key: string;
  value: string;
  encoding: "text" | "base64";
  metadata: string;
  expiryMode: ExpiryMode;
  expiry: string;
}

function draftOf(v: KvValue): Draft {
  return {
    editing: v.key,
    key: v.key,
    value: v.kind === "binary" ? (v.base64 ?? "") : (v.text ?? ""),
    encoding: v.kind === "binary" ? "base64" : "text",
    metadata: v.metadata === null ? "" : JSON.stringify(v.metadata, null, 2),
    expiryMode: v.expiration === null ? "never" : "at",
    expiry: v.expiration === null ? "" : String(v.expiration),
  };
}

const NEW_DRAFT: Draft = {
  editing: null,
  key: "",
  value: "",
  encoding: "text",
  metadata: "",
  expiryMode: "never",
  expiry: "",
};

/** The form that puts a key: its value (text or base64), metadata (JSON) and expiry, as put() takes them. */
function KvEditor({ draft, onDone }: { draft: Draft; onDone: () => void }) {
  const put = useKvStore((s) => s.put);
  const [d, setD] = useState(draft);
  const [error, setError] = useState<string | null>(null);
  const [saving, setSaving] = useState(false);
  const change = (p: Partial<Draft>) => setD((x) => ({ ...x, ...p }));

  const save = async () => {
    setError(null);
    let metadata: unknown;
    if (d.metadata.trim() !== "") {
      try {
        metadata = JSON.parse(d.metadata) as unknown;
      } catch {
        setError('Metadata must be JSON, e.g. {"owner": "ada"}');
        return;
      }
    }
    const n = Number(d.expiry);
    if (d.expiryMode !== "never" && (d.expiry.trim() === "" || !Number.isInteger(n))) {
      setError(d.expiryMode === "ttl" ? "TTL: a whole number of seconds" : "Expires at: Unix seconds");
      return;
    }
    setSaving(true);
    const err = await put({
      key: d.key,
      value: d.value,
      encoding: d.encoding,
      ...(metadata !== undefined ? { metadata } : {}),
      ...(d.expiryMode === "ttl" ? { expirationTtl: n } : d.expiryMode === "at" ? { expiration: n } : {}),
    });
    setSaving(false);
    if (err) setError(err);
    else onDone();
  };

  return (
    <form
      className="kv-editor"
      data-testid="kv-editor"
      onSubmit={(e) => {
        e.preventDefault();
        void save();
      }}
    >
      <h3>{d.editing === null ? "New key" : "Edit key"}</h3>
      <label>
        Key
        <input
          className="mono"
          aria-label="Key name"
          value={d.key}
          readOnly={d.editing !== null}
          onChange={(e) => change({ key: e.target.value })}
        />
      </label>
      <label>
        Value
        <textarea
          className="mono"
          aria-label="Value"
          rows={6}
          value={d.value}
          onChange={(e) => change({ value: e.target.value })}
        />
      </label>
      <div className="toolbar">
        <label>
          Encoding{" "}
          <select
            aria-label="Encoding"
            value={d.encoding}
            onChange={(e) => change({ encoding: e.target.value as Draft["encoding"] })}
          >
            <option value="text">text (UTF-8)</option>
            <option value="base64">base64 (bytes)</option>
          </select>
        </label>
        <label>
          Expires{" "}
          <select
            aria-label="Expiry"
            value={d.expiryMode}
            onChange={(e) => change({ expiryMode: e.target.value as ExpiryMode })}
          >
            <option value="never">never</option>
            <option value="ttl">after a TTL (seconds)</option>
            <option value="at">at (Unix seconds)</option>
          </select>
        </label>
        {d.expiryMode !== "never" ? (
          <input
            className="mono"
            aria-label={d.expiryMode === "ttl" ? "TTL seconds" : "Expires at"}
            inputMode="numeric"
            value={d.expiry}
            placeholder={
              d.expiryMode === "ttl" ? "at least 60" : String(Math.floor(Date.now() / 1000) + 3600)
            }
            onChange={(e) => change({ expiry: e.target.value })}
          />
        ) : null}
      </div>
      <label>
        Metadata (JSON, up to 1,024 bytes)
        <textarea
          className="mono"
          aria-label="Metadata"
          rows={2}
          value={d.metadata}
          placeholder='{"owner": "ada"}'
          onChange={(e) => change({ metadata: e.target.value })}
        />
      </label>
      {error ? (
        <p className="error" data-testid="kv-error">
          {error}
        </p>
      ) : null}
      <div className="toolbar">
        <button type="submit" className="primary" disabled={saving || d.key === ""}>
          Save
        </button>
        <button type="button" onClick={onDone}>
          Cancel
        </button>
      </div>
    </form>
  );
}

function ValuePane({ v, onEdit }: { v: KvValue; onEdit: () => void }) {
  const remove = useKvStore((s) => s.remove);
  const [confirming, setConfirming] = useState(false);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => setConfirming(false), [v.key]);
  return (
    <div className="kv-value" data-testid="kv-value">
      <div className="toolbar">
        <h3>
          Value <span className="mono muted">{v.key}</span>
        </h3>
        <span className="grow" />
        <button type="button" onClick={onEdit} disabled={v.truncated}>
          Edit
        </button>
        {confirming ? (
          <button
            type="button"
            className="danger"
            onClick={() => void remove(v.key).then((e) => setError(e))}
          >
            Delete {v.key}?
          </button>
        ) : (
          <button type="button" className="danger" onClick={() => setConfirming(true)}>
            Delete
          </button>
        )}
      </div>
      <dl className="kv-facts">
        <dt>Type</dt>
        <dd data-testid="kv-kind">
          {v.kind === "json" ? "JSON" : v.kind === "text" ? "text" : "binary"}, {formatBytes(v.size)}
          {v.truncated ? " (only the start is shown; too large to edit here)" : ""}
        </dd>
        <dt>Expires</dt>
        <dd data-testid="kv-expiry">{expiryText(v.expiration)}</dd>
        <dt>Metadata</dt>
        <dd className="mono" data-testid="kv-metadata">
          {v.metadata === null ? <span className="muted">none</span> : JSON.stringify(v.metadata)}
        </dd>
      </dl>
      {error ? <p className="error">{error}</p> : null}
      {v.text !== null ? (
        <pre className="file-preview" data-testid="kv-text">
          {v.kind === "json" ? JSON.stringify(JSON.parse(v.text), null, 2) : v.text}
        </pre>
      ) : (
        <>
          <p className="muted">Binary value: the first {Math.min(v.size, 256)} bytes in hex, then base64.</p>
          <pre className="file-preview" data-testid="kv-hex">
            {(v.hex.match(/.{1,32}/g) ?? []).map((l) => (l.match(/../g) ?? []).join(" ")).join("\n")}
          </pre>
          <pre className="file-preview" data-testid="kv-base64">
            {v.base64}
          </pre>
        </>
      )}
    </div>
  );
}

/** A KV namespace as the Inspector shows it: keys under a prefix, a page at a time, one value, edits. */
export function KvPage() {
  const s = useKvStore(
    useShallow((st) => ({
      namespaces: st.namespaces,
      namespace: st.source,
      prefix: st.prefix,
      keys: st.items,
      opened: st.opened,
      gone: st.gone,
      error: st.error,
    })),
  );
  const pages = useKvStore(
    useShallow((st) => ({
      prefix: st.prefix,
      cursors: st.cursors,
      next: st.next,
      setPrefix: st.setPrefix,
      nextPage: st.nextPage,
      previousPage: st.previousPage,
    })),
  );
  const { load, choose, open } = useKvStore(
    useShallow((st) => ({ load: st.load, choose: st.choose, open: st.open })),
  );
  const [draft, setDraft] = useState<Draft | null>(null);

  usePoll(load, 3_000);

  const ns = s.namespaces.find((n) => n.namespace === s.namespace) ?? null;
  if (s.namespaces.length === 0) {
    return (
      <section className="kv-page" aria-label="KV" data-testid="kv-page">
        <p className="muted">
          No KV namespaces. Bind one in wrangler.jsonc (<code>kv_namespaces</code>); Terrarium keeps it in the
          data folder.
        </p>
      </section>
    );
  }

  const row = (k: KvKeyInfo) => (
    <tr
      key={k.name}
      className={s.opened?.key === k.name ? "selected" : ""}
      data-testid="kv-key"
      data-key={k.name}
      onClick={() => {
        setDraft(null);
        void open(k.name);
      }}
    >
      <td className="mono clip">
        <button type="button" className="link">
          {k.name}
        </button>
      </td>
      <td>{k.expiration === null ? <span className="muted">never</span> : expiryText(k.expiration)}</td>
      <td className="mono clip">{metadataText(k.metadata)}</td>
    </tr>
  );

  return (
    <section className="kv-page" aria-label="KV" data-testid="kv-page">
      <div className="toolbar">
        {s.namespaces.length > 1 ? (
          <select aria-label="Namespace" value={s.namespace ?? ""} onChange={(e) => choose(e.target.value)}>
            {s.namespaces.map((n) => (
              <option key={n.namespace} value={n.namespace}>
                {n.bindings.map((b) => b.binding).join(", ")} ({n.namespace})
              </option>
            ))}
          </select>
        ) : null}
        {ns ? (
          <h2>
            <span className="muted">KV · </span>
            <span className="mono">{ns.bindings.map((b) => `env.${b.binding}`).join(", ")}</span>{" "}
            <span className="muted">{ns.namespace}</span>
          </h2>
        ) : null}
        <span className="grow" />
        {ns ? (
          <span className="muted" data-testid="kv-size">
            {pluralize(ns.keys, "key")}, {formatBytes(ns.bytes)}
            {ns.bindings.length > 1 ||
            s.namespaces.some((n) => n.bindings.some((b) => b.worker !== ns.bindings[0]?.worker))
              ? ` · bound by ${[...new Set(ns.bindings.map((b) => b.worker))].join(", ")}`
              : ""}
          </span>
        ) : null}
        <button type="button" onClick={() => setDraft({ ...NEW_DRAFT, key: s.prefix })}>
          + New key
        </button>
      </div>
      <CursorPager pages={pages} placeholder="Key prefix, e.g. session:" />
      {s.error ? <p className="error">{s.error}</p> : null}
      <div className="result-scroll kv-keys">
        <table className="result" aria-label="KV keys">
          <thead>
            <tr>
              <th>Key</th>
              <th>Expires</th>
              <th>Metadata</th>
            </tr>
          </thead>
          <tbody>{s.keys.map(row)}</tbody>
        </table>
        {s.keys.length === 0 ? (
          <p className="muted">{s.prefix ? `No keys under ${s.prefix}.` : "The namespace is empty."}</p>
        ) : null}
      </div>
      {draft ? (
        <KvEditor key={`${draft.editing ?? ""}:${draft.key}`} draft={draft} onDone={() => setDraft(null)} />
      ) : s.opened ? (
        <ValuePane v={s.opened} onEdit={() => s.opened && setDraft(draftOf(s.opened))} />
      ) : s.gone ? (
        <p className="muted">{s.gone} is gone (deleted or expired).</p>
      ) : null}
    </section>
  );
}
