import { create } from "zustand";
import type { QueueBatchRecord, QueueStats } from "../../../runtime/api/contract.ts";
import { api, errorText } from "./connection.ts";

// The queues store: every queue with its counts, and the latest batches of
// the queue the user picked (the first one until they pick).

export interface QueuesState {
  readonly queues: readonly QueueStats[];
  readonly selected: string | null;
  readonly batches: readonly QueueBatchRecord[];
  readonly error: string | null;
  readonly load: () => Promise<void>;
  readonly select: (queue: string) => Promise<void>;
}

export const useQueuesStore = create<QueuesState>()((set, get) => ({
  queues: [],
  selected: null,
  batches: [],
  error: null,
  load: async () => {
    try {
      const queues = await api().queues();
      const selected = get().selected ?? queues.find((q) => q.consumer)?.queue ?? queues[0]?.queue ?? null;
      const batches = selected ? await api().queueBatches({ queue: selected, limit: 50 }) : [];
      set({ queues, selected, batches, error: null });
    } catch (e) {
      set({ error: errorText(e) });
    }
  },
  select: async (selected) => {
    set({ selected, batches: [] });
    try {
      set({ batches: await api().queueBatches({ queue: selected, limit: 50 }) });
    } catch (e) {
      set({ error: errorText(e) });
    }
  },
}));
