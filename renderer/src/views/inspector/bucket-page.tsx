import { useShallow } from "zustand/react/shallow";
import type { BucketObjectInfo } from "../../../../runtime/api/contract.ts";
import { CursorPager } from "../../components/cursor-pager.tsx";
import { formatBytes, pluralize } from "../../components/format.ts";
import { useBucketStore } from "../../stores/bucket.ts";
import { usePoll } from "../../components/use-poll.ts";

function metadataText(m: Record<string, string>): string {
  return Object.entries(m)
    .map(([k, v]) => `${k}: ${v}`)
    .join(", ");
}

/** An R2 bucket as the Inspector shows it: keys with their metadata, a prefix filter, cursor paging, one value. */
export function BucketPage() {
  const s = useBucketStore(
    useShallow((st) => ({
      buckets: st.buckets,
      binding: st.source,
      objects: st.items,
      opened: st.opened,
      error: st.error,
    })),
  );
  const pages = useBucketStore(
    useShallow((st) => ({
      prefix: st.prefix,
      cursors: st.cursors,
      next: st.next,
      setPrefix: st.setPrefix,
      nextPage: st.nextPage,
      previousPage: st.previousPage,
    })),
  );
  const { load, choose, open } = useBucketStore(
    useShallow((st) => ({ load: st.load, choose: st.choose, open: st.open })),
  );

  usePoll(load, 3_000);

  const bucket = s.buckets.find((b) => b.binding === s.binding) ?? null;
  if (s.buckets.length === 0) {
    return (
      <section className="bucket-page" aria-label="Bucket" data-testid="bucket-page">
        <p className="muted">
          No R2 buckets. Bind one in wrangler.jsonc (<code>r2_buckets</code>); Terrarium keeps it in the data
          folder.
        </p>
      </section>
    );
  }

  const row = (o: BucketObjectInfo) => (
    <tr
      key={o.key}
      className={s.opened?.key === o.key ? "selected" : ""}
      data-testid="bucket-key"
      data-key={o.key}
      onClick={() => void open(o.key)}
    >
      <td className="mono clip">
        <button type="button" className="link" onClick={() => void open(o.key)}>
          {o.key}
        </button>
      </td>
      <td className="num">{formatBytes(o.size)}</td>
      <td className="mono">{o.etag.slice(0, 12)}</td>
      <td>{new Date(o.uploaded).toLocaleString()}</td>
      <td className="mono clip">{metadataText(o.httpMetadata)}</td>
      <td className="mono clip">{metadataText(o.customMetadata)}</td>
    </tr>
  );

  return (
    <section className="bucket-page" aria-label="Bucket" data-testid="bucket-page">
      <div className="toolbar">
        {s.buckets.length > 1 ? (
          <select aria-label="Bucket" value={s.binding ?? ""} onChange={(e) => choose(e.target.value)}>
            {s.buckets.map((b) => (
              <option key={b.binding} value={b.binding}>
                {b.binding} ({b.name})
              </option>
            ))}
          </select>
        ) : null}
        {bucket ? (
          <h2>
            <span className="muted">R2 · </span>
            <span className="mono">env.{bucket.binding}</span> <span className="muted">{bucket.name}</span>
          </h2>
        ) : null}
        <span className="grow" />
        {bucket ? (
          <span className="muted" data-testid="bucket-size">
            {pluralize(bucket.objects, "object")}, {formatBytes(bucket.bytes)}
          </span>
        ) : null}
      </div>
      <CursorPager pages={pages} placeholder="Key prefix, e.g. users/" />
      {s.error ? <p className="error">{s.error}</p> : null}
      <div className="result-scroll bucket-keys">
        <table className="result" aria-label="Bucket keys">
          <thead>
            <tr>
              <th>Key</th>
              <th className="num">Size</th>
              <th>ETag</th>
              <th>Uploaded</th>
              <th>HTTP metadata</th>
              <th>Custom metadata</th>
            </tr>
          </thead>
          <tbody>{s.objects.map(row)}</tbody>
        </table>
        {s.objects.length === 0 ? (
          <p className="muted">{pages.prefix ? `No keys under ${pages.prefix}.` : "The bucket is empty."}</p>
        ) : null}
      </div>
      {s.opened ? (
        <div className="bucket-value" data-testid="bucket-value">
          <h3>
            Value <span className="mono muted">{s.opened.key}</span>
          </h3>
          {s.opened.text !== null ? (
            <pre className="file-preview">{s.opened.text}</pre>
          ) : (
            <p className="muted">
              Not shown: {s.opened.why} ({formatBytes(s.opened.size)}).
            </p>
          )}
        </div>
      ) : null}
    </section>
  );
}
