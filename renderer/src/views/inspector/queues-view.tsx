import { useShallow } from "zustand/react/shallow";
import type { QueueBatchRecord, QueueStats } from "../../../../runtime/api/contract.ts";
import { formatTime } from "../../components/format.ts";
import { useQueuesStore } from "../../stores/queues.ts";
import { usePoll } from "../../components/use-poll.ts";

function consumerText(q: QueueStats): string {
  const c = q.consumer;
  if (!c)
    return q.deadLetterFor.length
      ? "no consumer (dead letters wait here)"
      : "no consumer (messages wait here)";
  const parts = [
    `batches of ${c.maxBatchSize}`,
    `${c.maxBatchTimeoutMs / 1000} s timeout`,
    `${c.maxRetries} ${c.maxRetries === 1 ? "retry" : "retries"}`,
  ];
  if (c.retryDelay) parts.push(`retry delay ${c.retryDelay} s`);
  parts.push(c.deadLetterQueue ? `dead letters to ${c.deadLetterQueue}` : "failed messages dropped");
  parts.push(
    (c.maxConcurrency ?? 1) === 1 ? "one batch at a time" : `up to ${c.maxConcurrency} batches at once`,
  );
  if (q.deadLetterFor.length) parts.unshift(`dead-letter queue of ${q.deadLetterFor.join(", ")}`);
  return parts.join(" · ");
}

function outcomeText(b: QueueBatchRecord): string {
  if (b.outcome === null) return "in flight";
  if (b.outcome === "interrupted") return "interrupted (delivered again)";
  return b.outcome === "ok" ? "ok" : "threw";
}

export function QueuesView() {
  const { queues, selected, batches, error } = useQueuesStore(
    useShallow((s) => ({ queues: s.queues, selected: s.selected, batches: s.batches, error: s.error })),
  );
  const load = useQueuesStore((s) => s.load);
  const select = useQueuesStore((s) => s.select);

  usePoll(load, 1_000);

  return (
    <section className="queues" aria-label="Queues" data-testid="queues">
      {error ? <p className="error">{error}</p> : null}
      <h3>Queues</h3>
      {queues.length === 0 ? (
        <p className="muted">
          No queues. Declare <code>queues.producers</code> and <code>queues.consumers</code> in the wrangler
          config; producers send with <code>env.QUEUE.send(body)</code>.
        </p>
      ) : (
        <table className="result" data-testid="queue-table">
          <thead>
            <tr>
              <th>Queue</th>
              <th>Producers</th>
              <th>Pending</th>
              <th>Delayed</th>
              <th>In flight</th>
              <th>Retrying</th>
              <th>Sent</th>
              <th>Acked</th>
              <th>Retried</th>
              <th>Dead-lettered</th>
              <th>Dropped</th>
              <th>Consumed by</th>
              <th>Consumer</th>
            </tr>
          </thead>
          <tbody>
            {queues.map((q) => (
              <tr
                key={q.queue}
                className={selected === q.queue ? "selected" : ""}
                onClick={() => void select(q.queue)}
                data-queue={q.queue}
              >
                <td className="mono">{q.queue}</td>
                <td className="mono">{q.producers.map((p) => `env.${p}`).join(", ") || "—"}</td>
                <td className="num">{q.pending}</td>
                <td className="num">{q.delayed}</td>
                <td className="num">{q.inFlight}</td>
                <td className="num">{q.retrying}</td>
                <td className="num">{q.sent}</td>
                <td className="num">{q.acked}</td>
                <td className="num">{q.retried}</td>
                <td className="num">{q.deadLettered}</td>
                <td className="num">{q.dropped}</td>
                <td className="mono" data-testid="queue-consumer-worker">
                  {q.consumerWorker ?? "—"}
                  {q.batchesInFlight > 0 ? (
                    <span className="muted">
                      {" "}
                      ({q.batchesInFlight} {q.batchesInFlight === 1 ? "batch" : "batches"} running)
                    </span>
                  ) : null}
                </td>
                <td>{consumerText(q)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {selected !== null ? (
        <>
          <h3>Batches delivered from {selected}</h3>
          {batches.length === 0 ? (
            <p className="muted">No batch delivered yet.</p>
          ) : (
            <table className="result" data-testid="queue-batches">
              <thead>
                <tr>
                  <th>#</th>
                  <th>Delivered</th>
                  <th>Took</th>
                  <th>Messages</th>
                  <th>Outcome</th>
                  <th>Acked</th>
                  <th>Retried</th>
                  <th>Dead-lettered</th>
                  <th>Dropped</th>
                  <th>Error</th>
                </tr>
              </thead>
              <tbody>
                {batches.map((b) => (
                  <tr key={b.seq} data-outcome={b.outcome ?? "in-flight"}>
                    <td className="num">{b.seq}</td>
                    <td className="mono">{formatTime(b.startedAt)}</td>
                    <td className="num">{b.endedAt !== null ? `${b.endedAt - b.startedAt} ms` : "—"}</td>
                    <td className="num">{b.size}</td>
                    <td>{outcomeText(b)}</td>
                    <td className="num">{b.acked}</td>
                    <td className="num">{b.retried}</td>
                    <td className="num">{b.deadLettered}</td>
                    <td className="num">{b.dropped}</td>
                    <td className="error">{b.error ?? ""}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </>
      ) : null}
    </section>
  );
}
