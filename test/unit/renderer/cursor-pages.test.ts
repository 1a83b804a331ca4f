import { describe, expect, it } from "vitest";
import { createStore } from "zustand/vanilla";
import { cursorPages, type CursorPages } from "../../../renderer/src/stores/cursor-pages.ts";

/** A source of keys listed `size` at a time, the cursor being the last key given (as KV's and R2's lists page). */
function keys(sources: Record<string, string[]>, size = 2) {
  const calls: string[] = [];
  const fetchPage = async ({
    source,
    prefix,
    cursor,
  }: {
    source: string;
    prefix: string;
    cursor: string;
  }) => {
    calls.push(`${source}:${prefix}:${cursor}`);
    const all = (sources[source] ?? []).filter((k) => k.startsWith(prefix) && k > cursor);
    const items = all.slice(0, size);
    return { items, cursor: all.length > size ? items[items.length - 1]! : null };
  };
  return { fetchPage, calls };
}

interface State extends CursorPages<string> {
  opened: string | null;
}

function store(fetchPage: ReturnType<typeof keys>["fetchPage"]) {
  return createStore<State>()((set, get) => ({
    ...cursorPages<string>(set, get, fetchPage, () => set({ opened: null })),
    opened: null,
  }));
}

describe("cursor paging (the KV and R2 browsers)", () => {
  it("pages forward and back by the cursors it has seen, and relists the page shown", async () => {
    const src = keys({ a: ["k1", "k2", "k3", "k4", "k5"] });
    const s = store(src.fetchPage);
    s.getState().choose("a");
    await s.getState().relist();
    expect(s.getState()).toMatchObject({ items: ["k1", "k2"], next: "k2", cursors: [""] });
    await s.getState().nextPage();
    await s.getState().nextPage();
    expect(s.getState()).toMatchObject({ items: ["k5"], next: null, cursors: ["", "k2", "k4"] });
    await s.getState().nextPage();
    expect(s.getState().items).toEqual(["k5"]);
    await s.getState().relist();
    expect(s.getState().cursors).toEqual(["", "k2", "k4"]);
    await s.getState().previousPage();
    expect(s.getState()).toMatchObject({ items: ["k3", "k4"], cursors: ["", "k2"] });
    await s.getState().previousPage();
    expect(s.getState()).toMatchObject({ items: ["k1", "k2"], cursors: [""] });
  });

  it("starts over on a new prefix or source, dropping what was opened and any page that arrives late", async () => {
    const src = keys({ a: ["x1", "x2", "x3", "y1"], b: ["z1"] });
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    let hold = false;
    const s = store(async (q) => {
      if (hold && q.source === "a") await held;
      return src.fetchPage(q);
    });
    s.getState().choose("a");
    await s.getState().relist();
    await s.getState().nextPage();
    s.setState({ opened: "x3" });
    s.getState().setPrefix("y");
    await s.getState().relist();
    expect(s.getState()).toMatchObject({ items: ["y1"], cursors: [""], next: null, opened: "x3" });
    // A page asked for under the old source, answered after the change, is dropped.
    hold = true;
    const late = s.getState().list("");
    s.getState().choose("b");
    s.getState().setPrefix("");
    await s.getState().relist();
    expect(s.getState()).toMatchObject({ source: "b", opened: null, items: ["z1"] });
    release();
    await late;
    expect(s.getState()).toMatchObject({ source: "b", items: ["z1"], cursors: [""] });
  });
});
