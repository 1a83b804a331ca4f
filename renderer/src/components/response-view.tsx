import { useMemo, useState } from "react";
import type { HttpResult } from "../../../runtime/api/contract.ts";
import { formatBytes, formatDuration } from "./format.ts";
import "./response-view.css";

function contentType(r: HttpResult): string {
  return r.headers.find(([k]) => k.toLowerCase() === "content-type")?.[1] ?? "";
}

/** Whether a response is an HTML page (which may be previewed in a sandboxed frame). */
export function isHtml(r: HttpResult): boolean {
  return r.bodyBase64 === null && /^\s*text\/html\b/i.test(contentType(r));
}

export function prettyBody(r: HttpResult): { text: string; note: string | null } {
  if (r.bodyBase64 !== null) {
    const bytes = Math.floor((r.bodyBase64.length * 3) / 4);
    return {
      text: r.bodyBase64.slice(0, 4096),
      note: `Binary body, ${formatBytes(bytes)}, shown as base64.`,
    };
  }
  const type = contentType(r);
  if (/json/i.test(type) || /^\s*[[{]/.test(r.body)) {
    try {
      return { text: JSON.stringify(JSON.parse(r.body), null, 2), note: null };
    } catch {
      // not JSON after all: shown as it came
    }
  }
  if (/html/i.test(type)) return { text: r.body, note: "HTML, shown as source." };
  return { text: r.body, note: null };
}

/**
 * An HTML response rendered for a look, never into the app's own DOM: a
 * frame with `sandbox=""` (no scripts, no same-origin, no forms, no popups,
 * no top navigation) whose document comes from `srcdoc`. The frame inherits
 * the app's Content-Security-Policy too, so the page loads nothing from
 * elsewhere and its inline styles do not apply.
 */
export function HtmlPreview({ html }: { readonly html: string }) {
  return (
    <iframe
      className="html-preview"
      title="HTML preview"
      data-testid="html-preview"
      sandbox=""
      referrerPolicy="no-referrer"
      srcDoc={html}
    />
  );
}

/** A response: status line, timing and size, then its body (or an HTML preview) or its headers. */
export function ResponseView({
  response: r,
  label = "Response",
}: {
  readonly response: HttpResult;
  readonly label?: string;
}) {
  const [tab, setTab] = useState<"body" | "preview" | "headers">("body");
  const body = useMemo(() => prettyBody(r), [r]);
  const html = isHtml(r);
  const shown = tab === "preview" && !html ? "body" : tab;
  return (
    <section className="response" aria-label={label} data-testid="response">
      <div className="response-line">
        <span className={`status s${String(r.status)[0]}`} data-testid="response-status">
          {r.status} {r.statusText}
        </span>
        <span className="muted">{formatDuration(r.durationMs)}</span>
        <span className="muted">{formatBytes(r.body.length)}</span>
        <span className="grow" />
        <div className="subtabs small">
          <button type="button" aria-pressed={shown === "body"} onClick={() => setTab("body")}>
            Body
          </button>
          {html ? (
            <button type="button" aria-pressed={shown === "preview"} onClick={() => setTab("preview")}>
              Preview
            </button>
          ) : null}
          <button type="button" aria-pressed={shown === "headers"} onClick={() => setTab("headers")}>
            Headers ({r.headers.length})
          </button>
        </div>
      </div>
      {shown === "body" ? (
        <>
          {body.note ? <p className="muted small">{body.note}</p> : null}
          <pre className="body" data-testid="response-body">
            {body.text}
          </pre>
        </>
      ) : null}
      {shown === "preview" ? (
        <>
          <p className="muted small">
            Rendered in a sandboxed frame: no scripts, no forms, nothing loaded from elsewhere, and the
            page&apos;s own styles do not apply.
          </p>
          <HtmlPreview html={r.body} />
        </>
      ) : null}
      {shown === "headers" ? (
        <table className="result">
          <tbody>
            {r.headers.map(([k, v], i) => (
              <tr key={i}>
                <td className="mono">{k}</td>
                <td className="mono">{v}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
    </section>
  );
}
