import { create } from "zustand";
import type { SnapshotInfo, StorageDiff } from "../../../runtime/api/contract.ts";
import { api, errorText } from "./connection.ts";

// The snapshots store: the open object's snapshots, the diff being looked at,
// and the version of its class's code it runs. Restore and reset go through
// here; the object-detail store refreshes what they changed.

export interface DiffView {
  readonly from: string;
  /** null: the object's storage now. */
  readonly to: string | null;
  readonly diff: StorageDiff;
}

export interface SnapshotsState {
  readonly id: string | null;
  readonly list: readonly SnapshotInfo[];
  /** Snapshots ticked to be compared with each other (at most two). */
  readonly picked: readonly string[];
  readonly diff: DiffView | null;
  readonly version: string | null;
  readonly busy: string | null;
  readonly error: string | null;
  /** What the last action did, in words. */
  readonly notice: string | null;
  readonly open: (id: string | null) => Promise<void>;
  readonly load: () => Promise<void>;
  readonly loadVersion: () => Promise<void>;
  readonly take: (label: string) => Promise<void>;
  readonly pick: (snapshotId: string, on: boolean) => void;
  readonly showDiff: (from: string, to: string | null) => Promise<void>;
  readonly restore: (snapshotId: string) => Promise<boolean>;
  readonly remove: (snapshotId: string) => Promise<void>;
  readonly reset: () => Promise<boolean>;
}

export const useSnapshotsStore = create<SnapshotsState>()((set, get) => {
  /** Runs `fn` for the object open now; its result is dropped if another one opened meanwhile. */
  const action = async (busy: string, fn: (id: string) => Promise<string | null>): Promise<boolean> => {
    const id = get().id;
    if (!id || get().busy) return false;
    set({ busy, error: null, notice: null });
    try {
      const notice = await fn(id);
      if (get().id === id) set({ notice });
      return true;
    } catch (e) {
      if (get().id === id) set({ error: errorText(e) });
      return false;
    } finally {
      if (get().id === id) set({ busy: null });
    }
  };

  return {
    id: null,
    list: [],
    picked: [],
    diff: null,
    version: null,
    busy: null,
    error: null,
    notice: null,

    open: async (id) => {
      if (id === get().id) return;
      set({ id, list: [], picked: [], diff: null, version: null, busy: null, error: null, notice: null });
      if (id) await Promise.all([get().load(), get().loadVersion()]);
    },

    load: async () => {
      const id = get().id;
      if (!id) return;
      try {
        const list = await api().snapshots(id);
        if (get().id === id)
          set({ list, picked: get().picked.filter((p) => list.some((s) => s.id === p)), error: null });
      } catch (e) {
        if (get().id === id) set({ error: errorText(e) });
      }
    },

    loadVersion: async () => {
      const id = get().id;
      if (!id) return;
      const version = await api()
        .objectVersion(id)
        .catch(() => null);
      if (get().id === id) set({ version });
    },

    take: async (label) => {
      await action("Taking a snapshot…", async (id) => {
        const s = await api().takeSnapshot({
          objectId: id,
          ...(label.trim() ? { label: label.trim() } : {}),
        });
        await get().load();
        return `Snapshot ${s.id} taken.`;
      });
    },

    pick: (snapshotId, on) => {
      const rest = get().picked.filter((p) => p !== snapshotId);
      set({ picked: on ? [...rest, snapshotId].slice(-2) : rest });
    },

    showDiff: async (from, to) => {
      await action("Comparing…", async (id) => {
        const diff = await api().diffSnapshots({ objectId: id, from, ...(to ? { to } : {}) });
        set({ diff: { from, to, diff } });
        return null;
      });
    },

    restore: async (snapshotId) =>
      action("Restoring…", async (id) => {
        const r = await api().restoreSnapshot({ objectId: id, snapshotId });
        set({ diff: null });
        await Promise.all([get().load(), get().loadVersion()]);
        return `Restored to ${r.restored.id}. What it held before is snapshot ${r.before.id}: restore that to undo.`;
      }),

    remove: async (snapshotId) => {
      await action("Deleting…", async (id) => {
        await api().deleteSnapshot({ objectId: id, snapshotId });
        const d = get().diff;
        if (d && (d.from === snapshotId || d.to === snapshotId)) set({ diff: null });
        await get().load();
        return null;
      });
    },

    reset: async () =>
      action("Resetting…", async (id) => {
        const r = await api().resetState({ objectId: id });
        set({ diff: null });
        await get().load();
        const kept = r.snapshots[0];
        return `Storage reset.${kept ? ` What it held is snapshot ${kept.id}.` : ""}`;
      }),
  };
});
