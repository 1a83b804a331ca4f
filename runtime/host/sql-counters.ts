import type Database from "better-sqlite3";

/**
 * `cursor.rowsRead` / `rowsWritten` as workerd counts them, estimated.
 *
 * workerd builds SQLite with a patch that counts, while a statement runs,
 * every row a b-tree cursor lands on (Rewind, Last, each Seek, each
 * successful Next or Prev, the rows OP_Count counts) as read, and every
 * row or index entry it inserts or deletes (outside temporary tables) as
 * written. better-sqlite3 exposes no such counter, so Terrarium reads the
 * statement's bytecode (EXPLAIN) once, finds its loops and the opcodes the
 * patch counts, and multiplies them by what it can observe: the rows the
 * statement returned, the rows it changed, and the size of a table it
 * scanned in full. That is exact for the common shapes (scans, lookups by
 * key or index, inserts, updates and deletes of one table, RETURNING,
 * DDL); where an opcode runs only for some rows (a filter inside a join,
 * an ORDER BY ... LIMIT's heap) it is an estimate.
 */

interface Op {
  addr: number;
  opcode: string;
  p1: number;
  p2: number;
  p3: number;
  p4: unknown;
  p5: number;
}

interface Loop {
  cursor: number;
  /** Address of the opcode that first positions the cursor (Rewind, Last, Sort, a Seek). */
  init: number;
  /** Address of the Next/Prev that closes the loop. */
  end: number;
  /** The loop starts from the first (or last) row: it visits every row of its table. */
  full: boolean;
  /** A seek loop with an end key: it stops on the first row past its range (which it read). */
  bounded: boolean;
  parent: Loop | null;
}

interface CursorInfo {
  /** A temporary b-tree (ORDER BY, RETURNING, a two-pass UPDATE): its writes do not count. */
  ephemeral: boolean;
  /** The table the cursor reads (for its row count), when it is a real one. */
  table: string | null;
  /** Opened for equality seeks only (OPFLAG_SEEKEQ): a seek that finds nothing counts no row. */
  seekEq: boolean;
}

/** What the bytecode of one statement says about its counters. */
export interface StatementShape {
  ops: Op[];
  loops: Loop[];
  cursors: Map<number, CursorInfo>;
  /** Statement changes rows (INSERT, UPDATE, DELETE, REPLACE), as opposed to DDL or SELECT. */
  dml: boolean;
  /** What a changed row does to the size of the table it is in: +1 (INSERT), -1 (DELETE) or 0. */
  growth: number;
  /** The table whose rows it changes. */
  target: string | null;
  /**
   * Address ranges that run only when a uniqueness check finds a conflict
   * (after a NoConflict that did not jump): REPLACE's removal of the other
   * row, an upsert's DO UPDATE.
   */
  conflicts: [number, number][];
  /** An upsert: its DO UPDATE path is one of the conflict ranges (the caller tells which path ran). */
  upsert: boolean;
  /** An upsert's insert path, skipped when its DO UPDATE ran. */
  inserting: [number, number][];
  /** A LIMIT (with its OFFSET, when a literal) that can end the statement's loop early. */
  limit: { offset: number } | null;
}

const SEEKS = new Set(["SeekGE", "SeekGT", "SeekLE", "SeekLT"]);
const POINT = new Set(["SeekRowid", "NotExists"]);
/** Opcodes that position a cursor at the start of a loop; the patch counts each (Sort and SorterSort share Rewind's code). */
const STARTS = new Set(["Rewind", "Last", "Sort", "SorterSort", ...SEEKS]);
const WRITES = new Set(["Insert", "IdxInsert"]);
/** Comparisons that end a range scan. */
const BOUNDS = new Set(["Gt", "Ge", "Lt", "Le", "IdxGT", "IdxGE", "IdxLT", "IdxLE"]);
/** Opcodes after which a statement has done its reading before it returns its first row. */
const BUFFERING = new Set([
  "SorterSort",
  "Sort",
  "AggStep",
  "AggStep1",
  "AggFinal",
  "AggValue",
  "OpenEphemeral",
]);

function toOp(r: Record<string, unknown>): Op {
  return {
    addr: Number(r.addr),
    opcode: String(r.opcode),
    p1: Number(r.p1),
    p2: Number(r.p2),
    p3: Number(r.p3),
    p4: r.p4,
    p5: Number(r.p5),
  };
}

/** Reads a statement's bytecode. `params` is how many `?` it has (they are bound to NULL: the plan does not depend on them). */
export function analyze(db: Database.Database, sql: string, params: number): StatementShape | null {
  let rows: Record<string, unknown>[];
  try {
    rows = db.prepare(`EXPLAIN ${sql}`).all(...new Array<null>(params).fill(null)) as Record<
      string,
      unknown
    >[];
  } catch {
    return null;
  }
  const ops = rows.map(toOp);
  const roots = new Map<number, string>();
  const cursors = new Map<number, CursorInfo>();
  for (const op of ops) {
    if (op.opcode === "OpenRead" || op.opcode === "OpenWrite") {
      // P2 is the root page, or with OPFLAG_P2ISREG (P5 0x10) the register holding it
      // (a b-tree the statement creates): then the table is not known here.
      if (!roots.size) {
        for (const s of db
          .prepare("SELECT rootpage, tbl_name FROM sqlite_schema WHERE rootpage > 0")
          .all() as { rootpage: number; tbl_name: string }[])
          roots.set(s.rootpage, s.tbl_name);
        roots.set(1, "sqlite_schema");
      }
      const known = op.p3 === 0 && (op.p5 & 0x10) === 0;
      cursors.set(op.p1, {
        ephemeral: false,
        table: known ? (roots.get(op.p2) ?? null) : null,
        // BTREE_SEEK_EQ: a seek that finds no equal key stops before counting a row.
        seekEq: (op.p5 & 0x02) !== 0,
      });
    } else if (
      op.opcode === "OpenEphemeral" ||
      op.opcode === "OpenAutoindex" ||
      op.opcode === "SorterOpen" ||
      op.opcode === "OpenPseudo" ||
      op.opcode === "OpenDup"
    ) {
      cursors.set(op.p1, { ephemeral: true, table: null, seekEq: false });
    }
  }
  const loops: Loop[] = [];
  for (const op of ops) {
    if (op.opcode !== "Next" && op.opcode !== "Prev" && op.opcode !== "SorterNext") continue;
    // The loop's start: the last opcode before the body that positions the same cursor.
    let init = -1;
    for (let a = op.p2 - 1; a >= 0; a--) {
      const o = ops[a]!;
      if (o.p1 === op.p1 && STARTS.has(o.opcode)) {
        init = a;
        break;
      }
    }
    if (init < 0) continue;
    const start = ops[init]!.opcode;
    const body = ops.slice(init + 1, op.addr);
    loops.push({
      cursor: op.p1,
      init,
      end: op.addr,
      full: start === "Rewind" || start === "Last" || start === "Sort" || start === "SorterSort",
      bounded: body.some((o) => BOUNDS.has(o.opcode) && o.p2 > op.addr),
      parent: null,
    });
  }
  for (const l of loops) {
    let best: Loop | null = null;
    for (const o of loops)
      if (o !== l && o.init <= l.init && o.end >= l.end && (!best || o.init >= best.init)) best = o;
    l.parent = best;
  }
  // OPFLAG_NCHANGE is P5 of Insert, P2 of Delete; OPFLAG_ISUPDATE (P5 0x04) marks an UPDATE's Insert.
  // A WITHOUT ROWID table is an index b-tree: its rows go in with IdxInsert (NCHANGE in P5 too).
  const inserts = ops.filter(
    (o) => (o.opcode === "Insert" || o.opcode === "IdxInsert") && (o.p5 & 0x01) !== 0,
  );
  const deleted = ops.filter(
    (o) => (o.opcode === "Delete" && (o.p2 & 0x01) !== 0) || (o.opcode === "Clear" && o.p3 !== 0),
  );
  const dml = inserts.length > 0 || deleted.length > 0;
  const growth = deleted.length ? -1 : inserts.some((o) => (o.p5 & 0x04) === 0) ? 1 : 0;
  const changer = deleted[0] ?? inserts[0];
  const target =
    changer === undefined
      ? null
      : changer.opcode === "Clear"
        ? null
        : (cursors.get(changer.p1)?.table ?? null);
  const conflicts: [number, number][] = [];
  // In an INSERT, a rowid that exists (NotExists falling through) is a conflict too.
  const insertStatement = inserts.some((o) => (o.p5 & 0x04) === 0);
  for (const op of ops)
    if ((op.opcode === "NoConflict" || (op.opcode === "NotExists" && insertStatement)) && op.p2 > op.addr + 1)
      conflicts.push([op.addr + 1, op.p2]);
  const inConflict = (a: number) => conflicts.some(([from, to]) => a >= from && a < to);
  const upsert = inserts.some((o) => (o.p5 & 0x04) !== 0 && inConflict(o.addr));
  // An upsert's insert path: from the NoConflict's target to where its DO UPDATE path jumps past it.
  const inserting: [number, number][] = [];
  for (const [from, to] of conflicts) {
    const over = ops.filter((o) => o.opcode === "Goto" && o.addr >= from && o.addr < to && o.p2 >= to).at(-1);
    if (over) inserting.push([to, over.p2]);
  }
  // DROP moves the last root pages into the freed ones only with auto_vacuum
  // (Destroy's P2 register names the page that moved); without it, the code
  // that renumbers them in sqlite_schema is skipped.
  const skipped: [number, number][] = [];
  if (!(db.pragma("auto_vacuum", { simple: true }) as number)) {
    const moved = new Set(ops.filter((o) => o.opcode === "Destroy").map((o) => o.p2));
    for (const op of ops)
      if (op.opcode === "IfNot" && moved.has(op.p1) && op.p2 > op.addr) skipped.push([op.addr + 1, op.p2]);
  }
  const kept = (a: number) => !skipped.some(([from, to]) => a >= from && a < to);
  // LIMIT without a sort stops the scan once enough rows were returned (past the OFFSET ones).
  let limit: { offset: number } | null = null;
  if (ops.some((o) => o.opcode === "DecrJumpZero")) {
    const offsetLimit = ops.find((o) => o.opcode === "OffsetLimit");
    const offsetReg = offsetLimit?.p3;
    const loaded = ops.find((o) => o.opcode === "Integer" && o.p2 === offsetReg);
    limit = { offset: offsetLimit ? (loaded?.p1 ?? 0) : 0 };
  }
  return {
    ops: ops.filter((o) => kept(o.addr)),
    loops: loops.filter((l) => kept(l.init)),
    cursors,
    dml,
    growth,
    target,
    conflicts,
    upsert,
    inserting,
    limit,
  };
}

/** What the statement was seen to do. */
export interface Observed {
  /** Rows it returned. */
  rows: number;
  /** Rows it inserted, updated or deleted (sqlite3_changes). */
  changes: number;
  /** An upsert took its DO UPDATE path (it did not insert a row). */
  updated?: boolean;
  /** The statement returns rows (a SELECT, or a write with RETURNING). */
  reader?: boolean;
}

/**
 * The counters of one run of a statement. `count(table)` gives a table's
 * rows now (after the statement ran); it is asked only for tables the
 * statement scans in full.
 */
export function countRows(
  shape: StatementShape,
  seen: Observed,
  count: (table: string) => number,
): { read: number; written: number } {
  const { loops, cursors } = shape;
  const real = (c: number) => cursors.get(c)?.ephemeral === false;
  // Conflict paths are taken only by an upsert whose DO UPDATE ran; then its
  // insert path is not.
  const within = (ranges: [number, number][], a: number) => ranges.some(([from, to]) => a >= from && a < to);
  const ops = shape.ops.filter((o) =>
    shape.upsert && seen.updated ? !within(shape.inserting, o.addr) : !within(shape.conflicts, o.addr),
  );
  const sizes = new Map<string, number>();
  const sizeOf = (c: number): number => {
    const table = cursors.get(c)?.table;
    if (!table) return seen.rows;
    let n = sizes.get(table);
    if (n === undefined) {
      n = count(table);
      // Counted after the statement: a DELETE scanned the rows it then removed,
      // an INSERT ... SELECT from its own table did not see the rows it added.
      if (table === shape.target) n = Math.max(n - shape.growth * seen.changes, 0);
      sizes.set(table, n);
    }
    return n;
  };
  // How many rows the statement's main work is about: what it changed, or what it returned.
  const matches = shape.dml ? seen.changes : seen.rows;
  const filling = new Set<number>();
  /** Rows in a temporary b-tree: what the statement changed or returned, or (CREATE INDEX's sorter) what was put in it. */
  const temporaryRows = (cursor: number): number => {
    const fills = ops.filter((o) => (WRITES.has(o.opcode) || o.opcode === "SorterInsert") && o.p1 === cursor);
    // Filled outside any loop (an IN list of values): as many rows as inserts.
    if (fills.length && fills.every((o) => !loops.some((l) => l.init < o.addr && o.addr <= l.end)))
      return fills.length;
    if (shape.dml || seen.reader) return matches;
    if (filling.has(cursor)) return 0;
    filling.add(cursor);
    let n = 0;
    for (const op of ops)
      if ((WRITES.has(op.opcode) || op.opcode === "SorterInsert") && op.p1 === cursor) n += runs(op.addr);
    filling.delete(cursor);
    return n;
  };
  const iterations = (l: Loop): number => {
    if (!real(l.cursor)) return temporaryRows(l.cursor);
    if (l.full) {
      const n = sizeOf(l.cursor);
      const sorts = ops.some((o) => BUFFERING.has(o.opcode));
      return shape.limit && !l.parent && !sorts ? Math.min(n, seen.rows + shape.limit.offset) : n;
    }
    return l.parent ? 1 : matches;
  };
  /** How many times the opcode at `addr` runs: once per iteration of each loop around it. */
  const runs = (addr: number): number => {
    let n = 1;
    for (const l of loops) if (l.init < addr && addr <= l.end && !l.parent) n *= outerRuns(l, addr);
    return n;
  };
  const outerRuns = (l: Loop, addr: number): number => {
    let n = iterations(l);
    for (const c of loops) if (c.parent === l && c.init < addr && addr <= c.end) n *= outerRuns(c, addr);
    return n;
  };
  let read = 0;
  for (const op of ops) {
    if (op.opcode === "Count") read += sizeOf(op.p1);
    else if (op.opcode === "Last" && ops.find((o) => o.addr === op.addr - 1)?.opcode === "IfNotZero")
      // ORDER BY ... LIMIT keeps a heap of the best rows: Last runs once it is full.
      read += Math.max(runs(op.addr) - seen.rows, 0);
    else if (STARTS.has(op.opcode) && !SEEKS.has(op.opcode)) read += runs(op.addr);
    else if (SEEKS.has(op.opcode) && cursors.get(op.p1)?.seekEq)
      // An equality seek that finds nothing counts nothing: at most one per match.
      read += Math.min(runs(op.addr), matches);
    else if (SEEKS.has(op.opcode) || POINT.has(op.opcode)) read += runs(op.addr);
  }
  for (const l of loops) {
    const n = iterations(l);
    const entries = runs(l.init);
    // Each Next that lands on a row counts; a bounded seek loop also lands on the row past its range.
    const steps = l.full || !real(l.cursor) || !l.bounded ? Math.max(n - 1, 0) : n;
    read += entries * steps;
  }
  let written = 0;
  if (shape.dml) {
    let perRow = 0;
    for (const op of ops) {
      // Clear's P1 is a root page, not a cursor: DELETE without WHERE empties the table at once.
      if (op.opcode === "Clear" && op.p3 !== 0) written += seen.changes;
      else if (!real(op.p1)) continue;
      else if (WRITES.has(op.opcode) && cursors.get(op.p1)?.table !== "sqlite_schema") perRow++;
      else if (op.opcode === "Delete" && (op.p2 & 0x01) !== 0) perRow++;
    }
    written += perRow * seen.changes;
  } else {
    for (const op of ops) if (WRITES.has(op.opcode) && real(op.p1)) written += runs(op.addr);
  }
  return { read, written };
}

/** Per statement shape, the counters of runs that asked no table's size, by what the run showed. */
const settled = new WeakMap<StatementShape, Map<string, { read: number; written: number }>>();
/** Distinct outcomes kept per shape (a SELECT's row count varies; most writes have one or two). */
const SETTLED_MAX = 64;

/**
 * `countRows`, remembered: a run that needed no table's size depends only on
 * what it showed (rows, changes, which upsert path), so the next run that
 * shows the same is answered without walking the bytecode again (a hot
 * object's upsert: one lookup instead of a walk that allocates).
 */
export function countRowsCached(
  shape: StatementShape,
  seen: Observed,
  count: (table: string) => number,
): { read: number; written: number } {
  const key = `${seen.rows}|${seen.changes}|${seen.updated === true ? 1 : 0}|${seen.reader === true ? 1 : 0}`;
  let known = settled.get(shape);
  const hit = known?.get(key);
  if (hit) return hit;
  let sized = false;
  const result = countRows(shape, seen, (table) => {
    sized = true;
    return count(table);
  });
  if (!sized) {
    if (!known) settled.set(shape, (known = new Map()));
    if (known.size < SETTLED_MAX) known.set(key, result);
  }
  return result;
}

/** The statement scans sqlite_schema (DROP): its size must be taken before the statement changes it. */
export function scansSchema(shape: StatementShape): boolean {
  return shape.loops.some((l) => l.full && shape.cursors.get(l.cursor)?.table === "sqlite_schema");
}

/**
 * How many of a statement's reads happened by the time it returned its first
 * row, when its rows come one read each from then on (workerd's cursor steps
 * the statement only as rows are taken): a scan with nothing sorted or
 * buffered, whose first row costs one read; or a sorted statement, which has
 * read everything but the rest of its sorted rows. null: not known.
 */
export function firstRowReads(shape: StatementShape, read: number, rows: number): number | null {
  if (rows === 0) return null;
  const last = shape.loops.at(-1);
  if (!last) return null;
  const output = shape.ops.some((o) => o.opcode === "ResultRow" && o.addr > last.init && o.addr < last.end);
  const ephemeral = shape.cursors.get(last.cursor)?.ephemeral !== false;
  if (ephemeral && output && !shape.dml) return Math.max(read - (rows - 1), 0);
  if (shape.loops.length > 1 || ephemeral || shape.ops.some((o) => BUFFERING.has(o.opcode))) return null;
  // One read per row, and perhaps the row past a range at the end.
  return read === rows || read === rows + 1 ? 1 : null;
}
