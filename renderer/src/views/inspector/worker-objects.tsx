import { useShallow } from "zustand/react/shallow";
import type { WorkerObjects } from "../../../../runtime/api/contract.ts";
import { formatAgo, formatBytes, pluralize, shortId } from "../../components/format.ts";
import { StateBadge } from "../../components/state-badge.tsx";
import { usePoll } from "../../components/use-poll.ts";
import { useUiStore } from "../../stores/ui.ts";
import { useWorkerObjectsStore } from "../../stores/worker-objects.ts";

/** The most rows shown per Worker. */
const SHOWN = 200;

function WorkerTable({ w }: { w: WorkerObjects }) {
  const now = Date.now();
  const openObject = useUiStore((s) => s.openObject);
  return (
    <div className="worker-objects" data-testid="worker-objects" data-worker={w.worker}>
      <h3>
        Worker <span className="mono">{w.worker}</span>{" "}
        <span className="muted keep-case">
          ({w.configFile}) · {pluralize(w.objects.length, "object")} of{" "}
          {w.classes.length ? w.classes.join(", ") : "no Durable Object class"}
        </span>
      </h3>
      <p className="muted">
        Stored in <span className="mono">{w.dataDir}</span>, apart from the project&apos;s own objects. Click
        one for its lifecycle, storage, alarms and logs; its logs also join the project&apos;s, prefixed with{" "}
        <span className="mono">{w.worker}:</span>.
      </p>
      {w.objects.length > 0 ? (
        <table className="result" aria-label={`Objects of ${w.worker}`}>
          <thead>
            <tr>
              <th>Worker</th>
              <th>Class</th>
              <th>Name / id</th>
              <th>State</th>
              <th className="num">Requests</th>
              <th className="num">Storage</th>
              <th className="num">Last active</th>
            </tr>
          </thead>
          <tbody>
            {w.objects.slice(0, SHOWN).map((o) => (
              <tr
                key={o.id}
                data-testid="worker-object"
                data-object-id={o.id}
                className="clickable"
                onClick={() => openObject(o.id)}
              >
                <td className="mono">{w.worker}</td>
                <td>{o.className}</td>
                <td title={o.id}>
                  {o.name ?? <span className="muted mono">{shortId(o.id)}</span>}
                  {o.name ? <span className="muted mono"> {shortId(o.id)}</span> : null}
                </td>
                <td>
                  <StateBadge state={o.state} />
                </td>
                <td className="num">{o.requests.toLocaleString()}</td>
                <td className="num">{formatBytes(o.storageBytes)}</td>
                <td className="num" title={new Date(o.lastActive).toLocaleString()}>
                  {formatAgo(o.lastActive, now)}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
      {w.objects.length > SHOWN ? <p className="muted">Showing the {SHOWN} most recently active.</p> : null}
    </div>
  );
}

/** The Durable Objects of the project's other Workers (-c), each Worker's apart; nothing without -c. */
export function WorkerObjectsList() {
  const { workers, error } = useWorkerObjectsStore(
    useShallow((s) => ({ workers: s.workers, error: s.error })),
  );
  const load = useWorkerObjectsStore((s) => s.load);
  usePoll(load, 2_000);
  if (workers.length === 0 && !error) return null;
  return (
    <section className="other-workers" aria-label="Other Workers' objects">
      {error ? <p className="error">{error}</p> : null}
      {workers.map((w) => (
        <WorkerTable key={w.worker} w={w} />
      ))}
    </section>
  );
}
