/**
 * Behaviour Terrarium does not reproduce yet, each with the reason. These
 * tests assert the difference is still there, so a fix shows up as a
 * failure that asks for the entry to be removed.
 */
export const KNOWN_GAPS: Record<string, string> = {
  "output-gate":
    "Terrarium commits each storage write at once, so a write an object makes just before abort() survives; workerd coalesces writes and discards uncommitted ones on a reset",
  "sql-counters":
    "rowsRead/rowsWritten come from a workerd patch to SQLite that counts engine steps; Terrarium approximates them",
};
