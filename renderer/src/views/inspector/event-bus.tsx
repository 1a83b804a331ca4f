import { useMemo } from "react";
import { useShallow } from "zustand/react/shallow";
import { formatTime } from "../../components/format.ts";
import { useEventsStore } from "../../stores/events.ts";
import { splitTopics } from "../../stores/topics.ts";
import { usePoll } from "../../components/use-poll.ts";

/** Event data is structured-clone data from objects: shown as JSON text, never as markup. */
function dataText(v: unknown): string {
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return String(v);
  }
}

/** The engine names a subscriber `["BINDING","object","method"]`; shown as `BINDING(object).method`. */
function subscriberText(s: string): string {
  try {
    const v: unknown = JSON.parse(s);
    if (Array.isArray(v) && v.length === 3 && v.every((x) => typeof x === "string")) {
      return `${v[0]}(${v[1]}).${v[2]}`;
    }
  } catch {
    // not that shape: shown as it is
  }
  return s;
}

export function EventBusView() {
  const {
    topics: all,
    events,
    selected,
    deliveries,
    error,
  } = useEventsStore(
    useShallow((s) => ({
      topics: s.topics,
      events: s.events,
      selected: s.selected,
      deliveries: s.deliveries,
      error: s.error,
    })),
  );
  const { topics, patterns } = useMemo(() => splitTopics(all), [all]);
  const load = useEventsStore((s) => s.load);
  const select = useEventsStore((s) => s.select);

  usePoll(load, 3_000);

  return (
    <section className="event-bus" aria-label="Event bus" data-testid="event-bus">
      {error ? <p className="error">{error}</p> : null}
      <h3>Topics</h3>
      {topics.length === 0 ? (
        <p className="muted">
          No topics. Objects publish with <code>env.EVENTS.publish(topic, data)</code>; subscriptions live in
          terrarium.json.
        </p>
      ) : (
        <table className="result" data-testid="topics">
          <thead>
            <tr>
              <th>Topic</th>
              <th>Published</th>
              <th>Last</th>
              <th>Subscribers</th>
            </tr>
          </thead>
          <tbody>
            {topics.map((t) => (
              <tr key={t.topic}>
                <td className="mono">{t.topic}</td>
                <td className="num">{t.published.toLocaleString()}</td>
                <td>{t.lastPublishedAt ? formatTime(t.lastPublishedAt) : "—"}</td>
                <td>
                  {t.subscribers.map((s) => (
                    <div key={`${s.binding}/${s.object}/${s.method}`} className="mono">
                      {s.binding}({s.object}).{s.method}
                    </div>
                  ))}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {patterns.length ? (
        <>
          <h3>Subscription patterns</h3>
          <table className="result" data-testid="topic-patterns">
            <thead>
              <tr>
                <th>Pattern</th>
                <th>Matches published topics</th>
                <th>Subscribers</th>
              </tr>
            </thead>
            <tbody>
              {patterns.map((p) => (
                <tr key={p.pattern}>
                  <td className="mono">{p.pattern}</td>
                  <td className="mono">{p.matches.length ? p.matches.join(", ") : "none yet"}</td>
                  <td>
                    {p.subscribers.map((s) => (
                      <div key={`${s.binding}/${s.object}/${s.method}`} className="mono">
                        {s.binding}({s.object}).{s.method}
                      </div>
                    ))}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      ) : null}
      <h3>Recent events</h3>
      {events.length === 0 ? (
        <p className="muted">No events published yet.</p>
      ) : (
        <table className="result events">
          <thead>
            <tr>
              <th>#</th>
              <th>Time</th>
              <th>Topic</th>
              <th>Publisher</th>
              <th>Data</th>
            </tr>
          </thead>
          <tbody>
            {events.map((e) => (
              <tr
                key={e.id}
                className={selected === e.id ? "selected" : ""}
                onClick={() => void select(selected === e.id ? null : e.id)}
              >
                <td className="num">{e.id}</td>
                <td className="mono">{formatTime(e.publishedAt)}</td>
                <td className="mono">{e.topic}</td>
                <td>
                  {e.publisher
                    ? `${e.publisher.className} ${e.publisher.name ?? e.publisher.id.slice(0, 8)}`
                    : "—"}
                </td>
                <td className="mono clip">{dataText(e.data)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {selected !== null ? (
        <>
          <h3>Deliveries of event {selected}</h3>
          <table className="result">
            <thead>
              <tr>
                <th>Subscriber</th>
                <th>Status</th>
                <th>Attempts</th>
                <th>Last error</th>
              </tr>
            </thead>
            <tbody>
              {deliveries.map((d) => (
                <tr key={d.subscriber}>
                  <td className="mono">{subscriberText(d.subscriber)}</td>
                  <td>{d.status}</td>
                  <td className="num">{d.attempts}</td>
                  <td className="error">{d.lastError ?? ""}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      ) : null}
    </section>
  );
}
