/**
 * Behaviour Terrarium does not reproduce yet, each with the reason. These
 * tests assert the difference is still there, so a fix shows up as a
 * failure that asks for the entry to be removed.
 */
export const KNOWN_GAPS: Record<string, string> = {
  "rpc-stubs": "functions and RpcTarget instances are not passed by reference over RPC yet",
  "sql-counters":
    "rowsRead/rowsWritten come from a workerd patch to SQLite that counts engine steps; Terrarium approximates them",
};
