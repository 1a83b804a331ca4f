import { useEffect, useRef, useState, type ReactNode } from "react";

export interface VirtualListProps<T> {
  readonly items: readonly T[];
  /** Every row has this height, in pixels: what lets the list render only the rows in view. */
  readonly rowHeight: number;
  readonly renderRow: (item: T, index: number) => ReactNode;
  readonly rowKey: (item: T, index: number) => string | number;
  readonly className?: string;
  readonly label?: string;
  /** Rows rendered above and below the visible ones, so a fast scroll shows no gap. */
  readonly overscan?: number;
  readonly empty?: ReactNode;
}

/**
 * A list that renders only the rows in view (plus a few): 10,000 rows cost
 * what 40 do. Rows are absolutely positioned in a spacer as tall as all of
 * them, so the scrollbar is true.
 */
export function VirtualList<T>(props: VirtualListProps<T>) {
  const { items, rowHeight, overscan = 8 } = props;
  const ref = useRef<HTMLDivElement>(null);
  const [scrollTop, setScrollTop] = useState(0);
  const [height, setHeight] = useState(600);

  useEffect(() => {
    const el = ref.current;
    if (!el) return;
    const ro = new ResizeObserver(() => setHeight(el.clientHeight));
    ro.observe(el);
    setHeight(el.clientHeight);
    return () => ro.disconnect();
  }, []);

  const first = Math.max(0, Math.floor(scrollTop / rowHeight) - overscan);
  const last = Math.min(items.length, Math.ceil((scrollTop + height) / rowHeight) + overscan);
  const rows: ReactNode[] = [];
  for (let i = first; i < last; i++) {
    const item = items[i] as T;
    rows.push(
      <div
        key={props.rowKey(item, i)}
        className="vrow"
        role="row"
        aria-rowindex={i + 1}
        style={{ top: i * rowHeight, height: rowHeight }}
      >
        {props.renderRow(item, i)}
      </div>,
    );
  }

  return (
    <div
      ref={ref}
      className={`vlist ${props.className ?? ""}`}
      role="rowgroup"
      aria-label={props.label}
      aria-rowcount={items.length}
      onScroll={(e) => setScrollTop(e.currentTarget.scrollTop)}
    >
      {items.length === 0 && props.empty ? (
        <div className="vlist-empty">{props.empty}</div>
      ) : (
        <div className="vlist-spacer" style={{ height: items.length * rowHeight }}>
          {rows}
        </div>
      )}
    </div>
  );
}
