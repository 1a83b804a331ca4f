import { useState } from "react";
import { useShallow } from "zustand/react/shallow";
import type { InstanceDetail, StepRecord } from "../../../../runtime/api/contract.ts";
import { formatDuration, formatTime, pluralize } from "../../components/format.ts";
import { useWorkflowsStore } from "../../stores/workflows.ts";
import "./workflows.css";
import { usePoll } from "../../components/use-poll.ts";

function StatusBadge({ status }: { readonly status: string }) {
  return (
    <span className={`state-badge wf-${status === "cut short" ? "cut" : status}`} data-status={status}>
      {status}
    </span>
  );
}

function parseJson(text: string): { ok: true; value: unknown } | { ok: false; error: string } {
  if (text.trim() === "") return { ok: true, value: {} };
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch (e) {
    return { ok: false, error: `not JSON: ${e instanceof Error ? e.message : String(e)}` };
  }
}

/** What a step is doing or did, in words. */
function stepSummary(s: StepRecord, now: number): string {
  if (s.kind === "sleep")
    return s.state === "done"
      ? `slept until ${formatTime(s.wakeAt ?? s.endedAt ?? s.startedAt)}`
      : `sleeps until ${formatTime(s.wakeAt ?? now)}`;
  if (s.kind === "wait") {
    if (s.state === "done") return `got event "${s.eventType ?? ""}"`;
    if (s.state === "failed") return `no event "${s.eventType ?? ""}" in time`;
    return `waits for event "${s.eventType ?? ""}" until ${formatTime(s.wakeAt ?? now)}`;
  }
  const n = s.attempts.length;
  if (s.state === "retrying") return `${pluralize(n, "attempt")}; next at ${formatTime(s.wakeAt ?? now)}`;
  return pluralize(n, "attempt");
}

const UNFINISHED: readonly string[] = ["running", "retrying", "sleeping", "waiting"];

function Timeline({ detail }: { readonly detail: InstanceDetail }) {
  // A finished or paused instance's unfinished steps stopped when it did.
  const stopped = ["complete", "errored", "terminated", "paused"].includes(detail.status);
  const now = stopped ? detail.updatedAt : Date.now();
  const steps = detail.steps_;
  const start = Math.min(detail.createdAt, ...steps.map((s) => s.startedAt));
  const end = Math.max(
    start + 1,
    ...steps.map((s) => s.endedAt ?? (s.state === "done" || s.state === "failed" ? s.startedAt : now)),
  );
  const span = end - start;
  if (steps.length === 0) return <p className="muted">No steps yet.</p>;
  return (
    <ol className="wf-timeline" aria-label="Steps">
      {steps.map((s) => {
        const stop = s.endedAt ?? (s.state === "done" || s.state === "failed" ? s.startedAt : now);
        const left = ((s.startedAt - start) / span) * 100;
        const width = Math.max(0.5, ((stop - s.startedAt) / span) * 100);
        const cutShort = stopped && detail.status !== "paused" && UNFINISHED.includes(s.state);
        return (
          <li
            key={s.key}
            className={`wf-step wf-step-${s.state}`}
            data-testid="workflow-step"
            data-step={s.name}
          >
            <div className="wf-step-head">
              <span className="wf-kind">{s.kind === "do" ? "step" : s.kind}</span>
              <span className="mono wf-name">{s.name}</span>
              <StatusBadge status={cutShort ? "cut short" : s.state} />
              <span className="muted">
                {cutShort ? `the instance was ${detail.status} here` : stepSummary(s, now)}
              </span>
              <span className="grow" />
              <span className="muted num">{formatDuration(stop - s.startedAt)}</span>
            </div>
            <div className="wf-bar-track">
              <div
                className="wf-bar"
                style={{ left: `${left}%`, width: `${Math.min(width, 100 - left)}%` }}
              />
            </div>
            {s.kind === "do" && s.attempts.length > 1 ? (
              <ul className="plain wf-attempts">
                {s.attempts.map((a) => (
                  <li key={a.attempt} data-testid="workflow-attempt">
                    <span className="mono">#{a.attempt}</span>{" "}
                    <span className="muted">
                      {formatTime(a.startedAt)}
                      {a.endedAt !== null ? ` · ${formatDuration(a.endedAt - a.startedAt)}` : " · running"}
                    </span>{" "}
                    {a.error ? (
                      <span className="error-text">
                        {a.error.name}: {a.error.message}
                      </span>
                    ) : a.endedAt !== null ? (
                      <span className="ok-text">succeeded</span>
                    ) : null}
                    {a.retryDelayMs !== undefined ? (
                      <span className="muted"> · retried after {formatDuration(a.retryDelayMs)}</span>
                    ) : null}
                  </li>
                ))}
              </ul>
            ) : null}
            {s.output !== null ? <pre className="wf-value">{s.output}</pre> : null}
            {s.error ? (
              <pre className="wf-value error-text">
                {s.error.name}: {s.error.message}
              </pre>
            ) : null}
          </li>
        );
      })}
    </ol>
  );
}

function InstancePanel({ detail }: { readonly detail: InstanceDetail }) {
  const { control, sendEvent } = useWorkflowsStore(
    useShallow((st) => ({ control: st.control, sendEvent: st.sendEvent })),
  );
  const waiting = detail.steps_.find((s) => s.kind === "wait" && s.state === "waiting");
  const [type, setType] = useState("");
  const [payload, setPayload] = useState("{}");
  const [why, setWhy] = useState<string | null>(null);
  const eventType = type || waiting?.eventType || "";
  const finite = ["complete", "errored", "terminated"].includes(detail.status);
  return (
    <div className="wf-instance" data-testid="workflow-instance">
      <div className="toolbar">
        <h3>
          Instance <span className="mono">{detail.id}</span>
        </h3>
        <StatusBadge status={detail.status} />
        <span className="grow" />
        <button
          type="button"
          disabled={detail.status !== "running" && detail.status !== "waiting"}
          onClick={() => void control("pause")}
        >
          Pause
        </button>
        <button type="button" disabled={detail.status !== "paused"} onClick={() => void control("resume")}>
          Resume
        </button>
        <button type="button" disabled={finite} onClick={() => void control("terminate")}>
          Terminate
        </button>
        <button type="button" onClick={() => void control("restart")}>
          Restart
        </button>
      </div>
      <dl className="wf-facts">
        <dt>Params</dt>
        <dd>
          <code>{detail.params}</code>
        </dd>
        <dt>Created</dt>
        <dd>{new Date(detail.createdAt).toLocaleString()}</dd>
        {detail.output !== null ? (
          <>
            <dt>Output</dt>
            <dd>
              <code data-testid="workflow-output">{detail.output}</code>
            </dd>
          </>
        ) : null}
        {detail.error ? (
          <>
            <dt>Error</dt>
            <dd className="error-text" data-testid="workflow-error">
              {detail.error.name}: {detail.error.message}
            </dd>
          </>
        ) : null}
      </dl>
      <h4>Timeline</h4>
      <Timeline detail={detail} />
      <h4>Events</h4>
      {detail.events.length > 0 ? (
        <ul className="plain wf-events">
          {detail.events.map((e, i) => (
            <li key={i}>
              <span className="muted">{formatTime(e.receivedAt)}</span> <span className="mono">{e.type}</span>{" "}
              <code>{e.payload}</code> <span className="muted">{e.consumed ? "taken" : "not taken yet"}</span>
            </li>
          ))}
        </ul>
      ) : (
        <p className="muted">No events sent.</p>
      )}
      <form
        className="toolbar"
        onSubmit={(ev) => {
          ev.preventDefault();
          const p = parseJson(payload);
          if (!p.ok) return setWhy(p.error);
          if (!eventType) return setWhy("an event needs a type");
          setWhy(null);
          void sendEvent(eventType, p.value);
        }}
      >
        <input
          className="mono"
          aria-label="Event type"
          placeholder="Event type"
          value={eventType}
          onChange={(e) => setType(e.target.value)}
        />
        <input
          className="mono grow"
          aria-label="Event payload"
          placeholder='Payload (JSON), e.g. {"approved": true}'
          value={payload}
          onChange={(e) => setPayload(e.target.value)}
        />
        <button type="submit">Send event</button>
        {why ? <span className="error-text">{why}</span> : null}
      </form>
    </div>
  );
}

/** The project's Workflows in the Inspector: instances with their status, one instance's timeline of steps. */
export function WorkflowsPage() {
  const s = useWorkflowsStore(
    useShallow((st) => ({
      workflows: st.workflows,
      worker: st.worker,
      binding: st.binding,
      instances: st.instances,
      opened: st.opened,
      openedId: st.openedId,
      error: st.error,
    })),
  );
  const { load, choose, open, create } = useWorkflowsStore(
    useShallow((st) => ({ load: st.load, choose: st.choose, open: st.open, create: st.create })),
  );
  const [params, setParams] = useState("{}");
  const [newId, setNewId] = useState("");
  const [why, setWhy] = useState<string | null>(null);

  usePoll(load, 1_000);

  if (s.workflows.length === 0) {
    return (
      <section className="workflows-page" aria-label="Workflows" data-testid="workflows-page">
        <p className="muted">
          No Workflows. Declare one in wrangler.jsonc (<code>workflows</code>: name, binding, class_name) and
          export its class (<code>extends WorkflowEntrypoint</code>).
        </p>
      </section>
    );
  }
  const wf = s.workflows.find((w) => w.worker === s.worker && w.binding === s.binding) ?? null;
  const key = (w: { worker: string; binding: string }) => JSON.stringify([w.worker, w.binding]);
  return (
    <section className="workflows-page" aria-label="Workflows" data-testid="workflows-page">
      <div className="toolbar">
        {s.workflows.length > 1 ? (
          <select
            aria-label="Workflow"
            value={wf ? key(wf) : ""}
            onChange={(e) => {
              const [worker, binding] = JSON.parse(e.target.value) as [string, string];
              choose(worker, binding);
            }}
          >
            {s.workflows.map((w) => (
              <option key={key(w)} value={key(w)}>
                {w.worker} · {w.binding} ({w.name})
              </option>
            ))}
          </select>
        ) : null}
        {wf ? (
          <h2>
            <span className="muted">Workflow · </span>
            <span className="mono">env.{wf.binding}</span> <span className="muted">{wf.name}</span>{" "}
            <span className="mono muted">{wf.className}</span>{" "}
            <span className="muted" data-testid="workflow-worker">
              · Worker <span className="mono">{wf.worker}</span>
            </span>
          </h2>
        ) : null}
        <span className="grow" />
        {wf ? (
          <span className="muted" data-testid="workflow-counts">
            {pluralize(wf.instances, "instance")}
            {Object.entries(wf.byStatus).map(([k, n]) => ` · ${n} ${k}`)}
          </span>
        ) : null}
      </div>
      <form
        className="toolbar"
        onSubmit={(ev) => {
          ev.preventDefault();
          const p = parseJson(params);
          if (!p.ok) return setWhy(p.error);
          setWhy(null);
          void create(p.value, newId.trim() || undefined);
        }}
      >
        <input
          className="mono"
          aria-label="Instance id"
          placeholder="Instance id (optional)"
          value={newId}
          onChange={(e) => setNewId(e.target.value)}
        />
        <input
          className="mono grow"
          aria-label="Instance params"
          placeholder='Params (JSON), e.g. {"orderId": 42}'
          value={params}
          onChange={(e) => setParams(e.target.value)}
        />
        <button type="submit">Create instance</button>
        {why ? <span className="error-text">{why}</span> : null}
      </form>
      {s.error ? <p className="error">{s.error}</p> : null}
      <div className="wf-split">
        <div className="result-scroll wf-instances">
          <table className="result" aria-label="Instances">
            <thead>
              <tr>
                <th>Instance</th>
                <th>Status</th>
                <th className="num">Steps</th>
                <th>Created</th>
                <th>Updated</th>
              </tr>
            </thead>
            <tbody>
              {s.instances.map((i) => (
                <tr
                  key={i.id}
                  className={s.openedId === i.id ? "selected" : ""}
                  data-testid="workflow-instance-row"
                  data-id={i.id}
                  onClick={() => void open(i.id)}
                >
                  <td className="mono clip">
                    <button type="button" className="link" onClick={() => void open(i.id)}>
                      {i.id}
                    </button>
                  </td>
                  <td>
                    <StatusBadge status={i.status} />
                  </td>
                  <td className="num">{i.steps}</td>
                  <td>{formatTime(i.createdAt)}</td>
                  <td>{formatTime(i.updatedAt)}</td>
                </tr>
              ))}
            </tbody>
          </table>
          {s.instances.length === 0 ? <p className="muted">No instances yet.</p> : null}
        </div>
        {s.opened ? (
          <InstancePanel key={s.opened.id} detail={s.opened} />
        ) : (
          <p className="muted">Open an instance to see its steps.</p>
        )}
      </div>
    </section>
  );
}
