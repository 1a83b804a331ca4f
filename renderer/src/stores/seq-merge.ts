// Plain functions of the stores' records, kept apart from the stores (which
// reach the engine) so they are tested on their own.

/**
 * Records from the fetched history and the live stream as one list, in seq
 * order, each once. The page subscribes before it fetches, so the two
 * overlap by whatever happened while the fetch was on its way; either may
 * arrive first. Keeps the last `limit`.
 */
export function mergeBySeq<T extends { readonly seq: number }>(
  have: readonly T[],
  more: readonly T[],
  limit: number,
): T[] {
  if (!more.length) return have.slice(-limit);
  const last = have.at(-1)?.seq ?? -Infinity;
  // The common case, live records after what is there: append without sorting.
  if (more.every((r, i) => r.seq > (i === 0 ? last : more[i - 1]!.seq)))
    return [...have, ...more].slice(-limit);
  const bySeq = new Map<number, T>();
  for (const r of have) bySeq.set(r.seq, r);
  for (const r of more) bySeq.set(r.seq, r);
  return [...bySeq.values()].sort((a, b) => a.seq - b.seq).slice(-limit);
}
