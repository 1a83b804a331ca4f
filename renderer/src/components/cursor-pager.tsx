import { useEffect, useState } from "react";
import type { CursorPages } from "../stores/cursor-pages.ts";

/** What the pager reads and calls of a cursor-paging store (stores/cursor-pages.ts). */
export type PagerPages = Pick<
  CursorPages<unknown>,
  "prefix" | "cursors" | "next" | "setPrefix" | "nextPage" | "previousPage"
>;

/**
 * The toolbar of a cursor-paged key list (the KV and R2 browsers): a key
 * prefix filter, applied a moment after typing stops, and Previous / Next.
 */
export function CursorPager({ pages, placeholder }: { pages: PagerPages; placeholder: string }) {
  const { prefix, setPrefix } = pages;
  const [text, setText] = useState(prefix);

  useEffect(() => {
    const t = setTimeout(() => {
      if (text !== prefix) setPrefix(text);
    }, 250);
    return () => clearTimeout(t);
  }, [text, prefix, setPrefix]);

  return (
    <div className="toolbar">
      <input
        type="search"
        className="mono grow"
        aria-label="Key prefix"
        placeholder={placeholder}
        value={text}
        onChange={(e) => setText(e.target.value)}
      />
      <button type="button" disabled={pages.cursors.length <= 1} onClick={() => void pages.previousPage()}>
        ‹ Previous
      </button>
      <button type="button" disabled={!pages.next} onClick={() => void pages.nextPage()}>
        Next ›
      </button>
    </div>
  );
}
