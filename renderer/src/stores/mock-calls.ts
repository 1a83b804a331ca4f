import { create } from "zustand";
import type { LiveEvent, MockCallRecord, MockEndpointInfo } from "../../../runtime/api/contract.ts";
import { api, errorText } from "./connection.ts";

// The mock-calls store: the project's mock endpoints and a live log of the
// calls they answered, newest first.

const CALL_LIMIT = 2_000;

export interface MockCallsState {
  readonly endpoints: readonly MockEndpointInfo[];
  readonly calls: readonly MockCallRecord[];
  readonly error: string | null;
  readonly load: () => Promise<void>;
  readonly applyLive: (events: readonly LiveEvent[]) => void;
}

export const useMockCallsStore = create<MockCallsState>()((set, get) => ({
  endpoints: [],
  calls: [],
  error: null,

  load: async () => {
    try {
      const [endpoints, calls] = await Promise.all([api().mocks(), api().mockCalls({ limit: CALL_LIMIT })]);
      set({ endpoints, calls, error: null });
    } catch (e) {
      set({ error: errorText(e) });
    }
  },

  applyLive: (events) => {
    const fresh: MockCallRecord[] = [];
    const newest = get().calls[0]?.seq ?? 0;
    for (const e of events) if (e.type === "mock" && e.data.seq > newest) fresh.push(e.data);
    if (fresh.length === 0) return;
    fresh.reverse();
    set((s) => {
      const counts = new Map<string, number>();
      for (const c of fresh) counts.set(c.mock, (counts.get(c.mock) ?? 0) + 1);
      return {
        calls: [...fresh, ...s.calls].slice(0, CALL_LIMIT),
        endpoints: s.endpoints.map((m) => ({ ...m, calls: m.calls + (counts.get(m.url) ?? 0) })),
      };
    });
  },
}));
