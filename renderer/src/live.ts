import type { ControlApi, LiveEvent } from "../../runtime/api/contract.ts";
import { useDesignStore } from "./stores/design.ts";
import { useObjectDetailStore } from "./stores/object-detail.ts";
import { useObjectsStore } from "./stores/objects.ts";
import { useEventsStore } from "./stores/events.ts";
import { useExportStore } from "./stores/export.ts";
import { useMockCallsStore } from "./stores/mock-calls.ts";

/** How often live events reach the stores: React renders at most this often, whatever the engine's rate. */
const FLUSH_MS = 250;

/**
 * Subscribes to the engine's live stream and hands the events to the stores
 * in batches. Under thousands of transitions a second the page still renders
 * four times a second, with one state update per store.
 */
export function startLive(api: ControlApi): () => void {
  let buffer: LiveEvent[] = [];
  let timer: ReturnType<typeof setTimeout> | null = null;
  const flush = (): void => {
    timer = null;
    const events = buffer;
    buffer = [];
    useObjectsStore.getState().applyLive(events);
    useObjectDetailStore.getState().applyLive(events);
    useMockCallsStore.getState().applyLive(events);
    useExportStore.getState().applyLive(events);
    if (events.some((e) => e.type === "request" && e.data.kind === "event"))
      void useEventsStore.getState().load();
    for (const e of events) if (e.type === "update") useDesignStore.getState().noteUpdate(e.data);
  };
  const off = api.subscribe((batch) => {
    for (const e of batch) buffer.push(e);
    timer ??= setTimeout(flush, FLUSH_MS);
  });
  return () => {
    off();
    if (timer) clearTimeout(timer);
  };
}
