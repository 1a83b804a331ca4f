import { create } from "zustand";
import type { EmailDetail, EmailSummary } from "../../../runtime/api/contract.ts";
import { api, errorText } from "./connection.ts";

// The email store: the messages the project's send_email bindings captured
// (newest first), and the one the user opened.

export interface EmailState {
  readonly messages: readonly EmailSummary[];
  readonly open: EmailDetail | null;
  readonly error: string | null;
  readonly load: () => Promise<void>;
  readonly show: (seq: number) => Promise<void>;
}

export const useEmailStore = create<EmailState>()((set) => ({
  messages: [],
  open: null,
  error: null,
  load: async () => {
    try {
      set({ messages: await api().emails({ limit: 200 }), error: null });
    } catch (e) {
      set({ error: errorText(e) });
    }
  },
  show: async (seq) => {
    try {
      set({ open: await api().email({ seq }), error: null });
    } catch (e) {
      set({ error: errorText(e) });
    }
  },
}));
