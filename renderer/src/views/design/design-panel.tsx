import { useEffect, useState } from "react";
import { useShallow } from "zustand/react/shallow";
import type { DesignInfo, PolicyInfo } from "../../../../runtime/api/contract.ts";
import { OBJECT_KINDS } from "../../api/object-kinds.ts";
import { useDesignPanelStore, type PanelTab } from "../../stores/design-panel.ts";
import { ClassHistory } from "./class-history.tsx";

/** Milliseconds as the user types them: empty means "not set here". */
function msText(v: number | undefined): string {
  return v === undefined ? "" : String(v);
}

function msValue(text: string): number | null {
  const t = text.trim();
  if (t === "") return null;
  const n = Number(t);
  return Number.isInteger(n) && n >= 0 ? n : Number.NaN;
}

/** Idle and hibernation timeouts; empty fields fall back to `inherited`. */
function Timeouts(props: {
  label: string;
  value: PolicyInfo;
  inherited: Required<PolicyInfo>;
  inheritedFrom: string;
  busy: boolean;
  onSave: (p: { idleAfterMs: number | null; hibernateAfterMs: number | null }) => void;
}) {
  const [idle, setIdle] = useState(msText(props.value.idleAfterMs));
  const [hib, setHib] = useState(msText(props.value.hibernateAfterMs));
  useEffect(() => {
    setIdle(msText(props.value.idleAfterMs));
    setHib(msText(props.value.hibernateAfterMs));
  }, [props.value.idleAfterMs, props.value.hibernateAfterMs]);
  const idleV = msValue(idle);
  const hibV = msValue(hib);
  const bad = Number.isNaN(idleV) || Number.isNaN(hibV);
  return (
    <form
      className="panel-form"
      aria-label={props.label}
      onSubmit={(e) => {
        e.preventDefault();
        if (!bad) props.onSave({ idleAfterMs: idleV, hibernateAfterMs: hibV });
      }}
    >
      <label>
        Idle after (ms)
        <input
          className="mono"
          inputMode="numeric"
          aria-label={`${props.label}: idle after (ms)`}
          placeholder={`${props.inherited.idleAfterMs} (${props.inheritedFrom})`}
          value={idle}
          onChange={(e) => setIdle(e.target.value)}
        />
      </label>
      <label>
        Hibernate after (ms)
        <input
          className="mono"
          inputMode="numeric"
          aria-label={`${props.label}: hibernate after (ms)`}
          placeholder={`${props.inherited.hibernateAfterMs} (${props.inheritedFrom})`}
          value={hib}
          onChange={(e) => setHib(e.target.value)}
        />
      </label>
      {bad ? <p className="error small">Timeouts are whole milliseconds, or empty.</p> : null}
      <button type="submit" disabled={props.busy || bad}>
        Save timeouts
      </button>
    </form>
  );
}

function ClassTab({ design, className }: { design: DesignInfo; className: string | null }) {
  const { busy, renameClass, deleteClass, saveSettings } = useDesignPanelStore(
    useShallow((s) => ({
      busy: s.busy,
      renameClass: s.renameClass,
      deleteClass: s.deleteClass,
      saveSettings: s.saveSettings,
    })),
  );
  const cls = design.classes.find((c) => c.className === className) ?? null;
  const [name, setName] = useState(className ?? "");
  const [kind, setKind] = useState(cls?.kind ?? "");
  const [notes, setNotes] = useState(cls?.notes ?? "");
  useEffect(() => {
    setName(cls?.className ?? "");
    setKind(cls?.kind ?? "");
    setNotes(cls?.notes ?? "");
  }, [cls?.className, cls?.kind, cls?.notes]);
  if (!cls) return <p className="muted small">Click a class on the canvas to edit it.</p>;
  const inherited = {
    idleAfterMs: design.lifecycle.idleAfterMs ?? design.defaultLifecycle.idleAfterMs,
    hibernateAfterMs: design.lifecycle.hibernateAfterMs ?? design.defaultLifecycle.hibernateAfterMs,
  };
  const renamed = name.trim();
  return (
    <div className="panel-section" aria-label={`Class ${cls.className}`}>
      <h4 className="mono">{cls.className}</h4>
      <p className="muted small">
        env.{cls.bindings.join(", env.")} · {cls.objects} object{cls.objects === 1 ? "" : "s"}
        {cls.sourceFile ? ` · ${cls.sourceFile}` : ""}
      </p>
      <form
        className="panel-form inline"
        onSubmit={(e) => {
          e.preventDefault();
          if (renamed !== cls.className) void renameClass(cls.className, renamed);
        }}
      >
        <label>
          Name
          <input
            className="mono"
            aria-label="Rename to"
            value={name}
            onChange={(e) => setName(e.target.value)}
          />
        </label>
        <button type="submit" disabled={busy || renamed === "" || renamed === cls.className}>
          Rename
        </button>
      </form>
      <p className="muted small">
        Renaming changes the code, points the bindings at the new name and adds a renamed_classes migration;
        the {cls.objects} object{cls.objects === 1 ? "" : "s"} keep{cls.objects === 1 ? "s" : ""} its storage.
      </p>
      <form
        className="panel-form"
        onSubmit={(e) => {
          e.preventDefault();
          void saveSettings(
            { classes: { [cls.className]: { kind: kind || null, notes } } },
            `${cls.className}'s kind and notes`,
          );
        }}
      >
        <label>
          Kind
          <select aria-label="Kind" value={kind} onChange={(e) => setKind(e.target.value)}>
            <option value="">(none)</option>
            {OBJECT_KINDS.map((k) => (
              <option key={k} value={k}>
                {k}
              </option>
            ))}
          </select>
        </label>
        <label>
          Notes
          <textarea aria-label="Notes" rows={2} value={notes} onChange={(e) => setNotes(e.target.value)} />
        </label>
        <button type="submit" disabled={busy}>
          Save kind and notes
        </button>
      </form>
      <h5>Timeouts for {cls.className}</h5>
      <Timeouts
        label={`${cls.className} timeouts`}
        value={cls.lifecycle}
        inherited={inherited}
        inheritedFrom="project"
        busy={busy}
        onSave={(p) =>
          void saveSettings({ classes: { [cls.className]: { lifecycle: p } } }, `${cls.className}'s timeouts`)
        }
      />
      <ClassHistory className={cls.className} />
      <div className="danger-zone">
        <button
          type="button"
          className="danger"
          disabled={busy}
          onClick={() => {
            const sure = window.confirm(
              `Delete class ${cls.className}?\n\n` +
                `Its binding (env.${cls.bindings.join(", env.")}), routes and subscriptions are removed, a ` +
                `deleted_classes migration is added, and its ${cls.objects} object${cls.objects === 1 ? "" : "s"} ` +
                `and their storage are deleted, as a deploy of that migration does on Cloudflare. The source file stays.`,
            );
            if (sure) void deleteClass(cls.className);
          }}
        >
          Delete class…
        </button>
      </div>
    </div>
  );
}

function RoutesTab({ design }: { design: DesignInfo }) {
  const s = useDesignPanelStore(
    useShallow((x) => ({ routes: x.routes, subscriptions: x.subscriptions, dirty: x.dirty, busy: x.busy })),
  );
  const a = useDesignPanelStore.getState();
  const bindings = design.classes.flatMap((c) => c.bindings);
  const bindingSelect = (value: string, onChange: (v: string) => void, label: string) => (
    <select aria-label={label} value={value} onChange={(e) => onChange(e.target.value)}>
      {bindings.includes(value) ? null : <option value={value}>{value}</option>}
      {bindings.map((b) => (
        <option key={b} value={b}>
          {b}
        </option>
      ))}
    </select>
  );
  return (
    <div className="panel-section">
      <h5>Routes</h5>
      <p className="muted small">
        Checked before the entry Worker: <span className="mono">/path/:param</span> to a binding; the object
        is named from <span className="mono">{"{param}"}</span>, <span className="mono">{"{query.k}"}</span>,{" "}
        <span className="mono">{"{header.h}"}</span> or literal text.
      </p>
      <ul className="edit-rows" aria-label="Routes">
        {s.routes.map((r, i) => (
          <li key={i} className="edit-row">
            <div className="edit-line">
              <input
                className="mono grow"
                aria-label={`Route ${i + 1} pattern`}
                value={r.pattern}
                onChange={(e) => a.editRoute(i, { pattern: e.target.value })}
              />
              <input
                className="mono narrow"
                aria-label={`Route ${i + 1} methods`}
                placeholder="any method"
                value={r.method}
                onChange={(e) => a.editRoute(i, { method: e.target.value })}
              />
              <button
                type="button"
                className="link"
                aria-label={`Remove route ${i + 1}`}
                onClick={() => a.removeRoute(i)}
              >
                ✕
              </button>
            </div>
            <div className="edit-line">
              <span className="muted small">→</span>
              {bindingSelect(r.binding, (v) => a.editRoute(i, { binding: v }), `Route ${i + 1} binding`)}
              <input
                className="mono grow"
                aria-label={`Route ${i + 1} object`}
                title="the object's name"
                value={r.object}
                onChange={(e) => a.editRoute(i, { object: e.target.value })}
              />
            </div>
          </li>
        ))}
      </ul>
      <button type="button" disabled={bindings.length === 0} onClick={() => a.addRoute(bindings[0] ?? "")}>
        + Route
      </button>
      <h5>Subscriptions</h5>
      <p className="muted small">
        Event Bus topics (<span className="mono">user.*</span> matches one segment) delivered to a method of
        an object, named literally or from the event: <span className="mono">{"{data.userId}"}</span>.
      </p>
      <ul className="edit-rows" aria-label="Subscriptions">
        {s.subscriptions.map((x, i) => (
          <li key={i} className="edit-row">
            <div className="edit-line">
              <input
                className="mono grow"
                aria-label={`Subscription ${i + 1} topic`}
                value={x.topic}
                onChange={(e) => a.editSubscription(i, { topic: e.target.value })}
              />
              <button
                type="button"
                className="link"
                aria-label={`Remove subscription ${i + 1}`}
                onClick={() => a.removeSubscription(i)}
              >
                ✕
              </button>
            </div>
            <div className="edit-line">
              <span className="muted small">→</span>
              {bindingSelect(
                x.binding,
                (v) => a.editSubscription(i, { binding: v }),
                `Subscription ${i + 1} binding`,
              )}
              <input
                className="mono grow"
                aria-label={`Subscription ${i + 1} object`}
                title="the object's name"
                value={x.object}
                onChange={(e) => a.editSubscription(i, { object: e.target.value })}
              />
              <input
                className="mono narrow"
                aria-label={`Subscription ${i + 1} method`}
                title="the method it calls"
                value={x.method}
                onChange={(e) => a.editSubscription(i, { method: e.target.value })}
              />
            </div>
          </li>
        ))}
      </ul>
      <button
        type="button"
        disabled={bindings.length === 0}
        onClick={() => a.addSubscription(bindings[0] ?? "")}
      >
        + Subscription
      </button>
      <div className="toolbar">
        {s.dirty ? <span className="warn small">● unsaved</span> : null}
        <span className="grow" />
        <button
          type="button"
          className="primary"
          disabled={!s.dirty || s.busy}
          onClick={() => void a.saveTopology()}
        >
          Save to terrarium.json
        </button>
      </div>
    </div>
  );
}

/** The Design view's side panel. */
export function DesignPanel({ design, selectedClass }: { design: DesignInfo; selectedClass: string | null }) {
  const { tab, message, error, busy } = useDesignPanelStore(
    useShallow((s) => ({ tab: s.tab, message: s.message, error: s.error, busy: s.busy })),
  );
  const { setTab, sync, saveSettings } = useDesignPanelStore.getState();
  useEffect(() => sync(design), [design, sync]);
  useEffect(() => {
    if (selectedClass) setTab("class");
  }, [selectedClass, setTab]);
  const tabs: [PanelTab, string][] = [
    ["class", "Class"],
    ["routes", "Routes & subscriptions"],
    ["timeouts", "Timeouts"],
  ];
  return (
    <aside className="design-panel" aria-label="Design settings">
      <div className="tabs small-tabs" role="tablist">
        {tabs.map(([id, label]) => (
          <button key={id} type="button" role="tab" aria-selected={tab === id} onClick={() => setTab(id)}>
            {label}
          </button>
        ))}
      </div>
      {message ? (
        <p className="muted small" role="status" data-testid="design-panel-status">
          {message}
        </p>
      ) : null}
      {error ? (
        <p className="error small" role="alert">
          {error}
        </p>
      ) : null}
      {tab === "class" ? <ClassTab design={design} className={selectedClass} /> : null}
      {tab === "routes" ? <RoutesTab design={design} /> : null}
      {tab === "timeouts" ? (
        <div className="panel-section">
          <h5>Project-wide timeouts</h5>
          <p className="muted small">
            An object with nothing in flight goes Idle, then Hibernating (its worker ends; its storage stays).
            A class's own timeouts (Class tab) win over these.
          </p>
          <Timeouts
            label="Project timeouts"
            value={design.lifecycle}
            inherited={design.defaultLifecycle}
            inheritedFrom="default"
            busy={busy}
            onSave={(p) => void saveSettings({ lifecycle: p }, "the project's timeouts")}
          />
        </div>
      ) : null}
    </aside>
  );
}
