import { useEffect } from "react";
import { useShallow } from "zustand/react/shallow";
import type { ExportCheck, ExportPlanInfo } from "../../../../runtime/api/contract.ts";
import { formatBytes, formatDuration } from "../../components/format.ts";
import { useConnectionStore } from "../../stores/connection.ts";
import { useExportStore } from "../../stores/export.ts";

const CHECK_LABELS: Record<ExportCheck, { button: string; what: string }> = {
  typecheck: { button: "Type-check", what: "tsc --noEmit against @cloudflare/workers-types" },
  "dry-run": { button: "wrangler deploy --dry-run", what: "bundles it as a deploy would, without deploying" },
};

/** The output folder's state in words, and whether writing needs "Overwrite". */
function targetText(plan: ExportPlanInfo | null): { text: string; blocked: boolean } {
  const t = plan?.target;
  if (!t) return { text: "Type the absolute path of a folder.", blocked: true };
  if (!t.exists) return { text: "The folder does not exist yet; it will be created.", blocked: false };
  if (t.entries === 0) return { text: "The folder is empty.", blocked: false };
  return {
    text: `The folder is not empty (${t.entries} ${t.entries === 1 ? "entry" : "entries"}). Tick Overwrite to replace its contents (.git, node_modules and .wrangler are kept).`,
    blocked: true,
  };
}

export function ExportView() {
  const project = useConnectionStore((s) => s.project);
  const s = useExportStore(
    useShallow((st) => ({
      outDir: st.outDir,
      force: st.force,
      plan: st.plan,
      planning: st.planning,
      planError: st.planError,
      selected: st.selected,
      writing: st.writing,
      written: st.written,
      writeError: st.writeError,
    })),
  );
  const { setOutDir, setForce, loadPlan, select, write } = useExportStore(
    useShallow((st) => ({
      setOutDir: st.setOutDir,
      setForce: st.setForce,
      loadPlan: st.loadPlan,
      select: st.select,
      write: st.write,
    })),
  );

  // A first visit suggests a folder beside the project's own.
  useEffect(() => {
    if (project && useExportStore.getState().outDir === "") setOutDir(`${project.dir}-cloudflare`);
  }, [project, setOutDir]);

  // The plan follows the folder as it is typed (after a pause).
  useEffect(() => {
    const t = setTimeout(() => void loadPlan(), 300);
    return () => clearTimeout(t);
  }, [s.outDir, loadPlan]);

  const target = targetText(s.plan);
  const totalBytes = s.plan?.files.reduce((n, f) => n + f.bytes, 0) ?? 0;
  const file = s.plan?.files.find((f) => f.path === s.selected) ?? null;
  const canWrite = s.plan?.target != null && !s.writing && (!target.blocked || s.force);

  return (
    <section className="export" aria-label="Export" data-testid="export-view">
      <p className="muted">
        Writes the project as a Cloudflare Workers project: wrangler.jsonc, your sources unchanged, a
        generated entry for routes, sharding and the Event Bus, package.json and tsconfig.json. Run it from
        that folder with <code>npm install &amp;&amp; npm run deploy</code>.
      </p>
      <div className="toolbar">
        <label className="grow export-folder">
          Output folder{" "}
          <input
            type="text"
            className="mono grow"
            aria-label="Output folder"
            spellCheck={false}
            value={s.outDir}
            onChange={(e) => setOutDir(e.target.value)}
          />
        </label>
        <label className={s.force ? "warn" : ""}>
          <input type="checkbox" checked={s.force} onChange={(e) => setForce(e.target.checked)} /> Overwrite
        </label>
        <button type="button" className="primary" disabled={!canWrite} onClick={() => void write()}>
          {s.writing ? "Writing…" : `Write ${s.plan?.files.length ?? ""} files`}
        </button>
      </div>
      <p className={target.blocked && s.plan?.target ? "warn" : "muted"} data-testid="export-target">
        {s.planning && !s.plan ? "Reading the project…" : target.text}
      </p>
      {s.written ? (
        <p className="ok" data-testid="export-result">
          Wrote {s.written.files} files ({formatBytes(s.written.bytes)}) to{" "}
          <span className="mono">{s.written.outDir}</span>.
        </p>
      ) : null}
      {s.writeError ? (
        <p className="error" data-testid="export-result">
          {s.writeError}
        </p>
      ) : null}
      {s.planError ? (
        <p className="error" data-testid="export-plan-error">
          The exporter refused the project: {s.planError}
        </p>
      ) : null}

      <div className="export-body">
        <div className="export-files">
          <h3>
            Files{" "}
            <span className="muted">
              ({s.plan ? `${s.plan.files.length}, ${formatBytes(totalBytes)}` : "…"})
            </span>
          </h3>
          <table className="result" aria-label="Export files">
            <thead>
              <tr>
                <th>Path</th>
                <th className="num">Size</th>
              </tr>
            </thead>
            <tbody>
              {s.plan?.files.map((f) => (
                <tr
                  key={f.path}
                  className={f.path === s.selected ? "selected" : ""}
                  data-testid="export-file"
                  data-path={f.path}
                  onClick={() => select(f.path)}
                >
                  <td className="mono">
                    <button type="button" className="link" onClick={() => select(f.path)}>
                      {f.path}
                    </button>
                    {f.generated ? <span className="tag">generated</span> : null}
                  </td>
                  <td className="num">{formatBytes(f.bytes)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
        <div className="export-side">
          <div className="export-preview">
            <h3>
              Preview <span className="muted mono">{file?.path ?? ""}</span>
            </h3>
            {file ? (
              file.text !== null ? (
                <pre className="file-preview" data-testid="export-preview">
                  {file.text}
                </pre>
              ) : (
                <p className="muted">A binary file of {formatBytes(file.bytes)}, copied as it is.</p>
              )
            ) : (
              <p className="muted">Pick a file to see what the export writes.</p>
            )}
          </div>
          <Validation plan={s.plan} planError={s.planError} />
        </div>
      </div>
    </section>
  );
}

function Validation({
  plan,
  planError,
}: {
  readonly plan: ExportPlanInfo | null;
  readonly planError: string | null;
}) {
  const checks = useExportStore((s) => s.checks);
  const runCheck = useExportStore((s) => s.runCheck);
  const anyRunning = Object.values(checks).some((c) => c.running);
  return (
    <div className="export-validation" data-testid="export-validation">
      <h3>Validation</h3>
      <ul className="plain checks">
        <li data-testid="exporter-check">
          {planError ? (
            <span className="error">✗ Exporter checks: {planError}</span>
          ) : plan ? (
            <span className="ok">✓ Exporter checks passed</span>
          ) : (
            <span className="muted">Exporter checks…</span>
          )}
          {plan?.warnings.length ? (
            <ul className="warnings">
              {plan.warnings.map((w) => (
                <li key={w} className="warn">
                  {w}
                </li>
              ))}
            </ul>
          ) : null}
        </li>
      </ul>
      {plan && plan.checks.length === 0 ? (
        <p className="muted">This install has no typescript and wrangler to validate with.</p>
      ) : null}
      {plan?.checks.map((check) => {
        const c = checks[check];
        return (
          <div key={check} className="check" data-testid={`check-${check}`}>
            <div className="toolbar">
              <button type="button" disabled={anyRunning || !!planError} onClick={() => void runCheck(check)}>
                {CHECK_LABELS[check].button}
              </button>
              <span className="muted">{CHECK_LABELS[check].what}</span>
              <span className="grow" />
              <span data-testid="check-status">
                {c.running ? (
                  <span className="muted">running…</span>
                ) : c.result ? (
                  <span className={c.result.ok ? "ok" : "error"}>
                    {c.result.ok ? "✓ passed" : "✗ failed"} (exit {c.result.code ?? "killed"}) in{" "}
                    {formatDuration(c.result.durationMs)}
                  </span>
                ) : c.error ? (
                  <span className="error">{c.error}</span>
                ) : null}
              </span>
            </div>
            {c.running || c.result ? (
              <pre className="check-output" data-testid="check-output">
                {c.output || (c.running ? "" : "(no output)")}
              </pre>
            ) : null}
          </div>
        );
      })}
    </div>
  );
}
