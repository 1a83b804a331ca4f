/** A count for people: rounded, with thousands separators ("1,850"). */
export function count(n: number): string {
  return Math.round(n).toLocaleString("en-US");
}
