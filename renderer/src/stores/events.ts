import { create } from "zustand";
import type { BusEvent, DeliveryRecord, TopicInfo } from "../../../runtime/api/contract.ts";
import { api, errorText } from "./connection.ts";

// The event-bus store: topics with their subscribers, the recent events, and
// the deliveries of the event the user picked.

export interface EventsState {
  readonly topics: readonly TopicInfo[];
  readonly events: readonly BusEvent[];
  readonly selected: number | null;
  readonly deliveries: readonly DeliveryRecord[];
  readonly error: string | null;
  readonly load: () => Promise<void>;
  readonly select: (eventId: number | null) => Promise<void>;
}

export const useEventsStore = create<EventsState>()((set) => ({
  topics: [],
  events: [],
  selected: null,
  deliveries: [],
  error: null,
  load: async () => {
    try {
      const [topics, events] = await Promise.all([api().topics(), api().recentEvents({ limit: 200 })]);
      set({ topics, events: [...events].sort((a, b) => b.id - a.id), error: null });
    } catch (e) {
      set({ error: errorText(e) });
    }
  },
  select: async (selected) => {
    set({ selected, deliveries: [] });
    if (selected === null) return;
    try {
      set({ deliveries: await api().deliveries(selected) });
    } catch (e) {
      set({ error: errorText(e) });
    }
  },
}));
