// What time travel costs on one object with a sizeable table, live and not.
//
//   node --import tsx bench/snapshots.ts [--rows N] [--runs N]
//
// On a copy of test/fixtures/notes: one object with N notes (default
// 100,000, about 4 MB) and a few KV keys. Measures, as the control API sees
// them: a snapshot of the live object (VACUUM INTO in its worker), one of it
// hibernating (from its file), a diff to now after 1,000 rows changed, 1,000
// added and 1,000 removed, and a restore (stop, swap the file, wake on the
// next request). Each is run --runs times (default 3); the median is printed.

import { parseArgs } from "node:util";
import { openEngine, request, tempProject } from "../test/helpers/project.ts";

const { values } = parseArgs({
  options: { rows: { type: "string", default: "100000" }, runs: { type: "string", default: "3" } },
});
const ROWS = Number(values.rows);
const RUNS = Number(values.runs);

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

async function time<T>(fn: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const t = performance.now();
  const value = await fn();
  return { ms: performance.now() - t, value };
}

const project = tempProject("notes");
const engine = await openEngine(project.dir, project.dataDir);
try {
  await request(engine, "POST", "/notes/bench/add?text=first");
  const id = (await engine.api.listObjects({ search: "bench" })).objects[0]!.id;
  await engine.api.hibernate(id);
  await engine.api.writeSql({
    objectId: id,
    sql: `WITH RECURSIVE n(i) AS (SELECT 2 UNION ALL SELECT i + 1 FROM n WHERE i <= ${ROWS})
          INSERT INTO notes (id, text) SELECT i, printf('note %d with some text to make a row of size', i) FROM n`,
  });
  const results: Record<string, number[]> = {
    "snapshot, live": [],
    "snapshot, hibernating": [],
    "diff to now (3,000 rows differ)": [],
    "restore (until the next request answers)": [],
  };
  let bytes = 0;
  for (let run = 0; run < RUNS; run++) {
    await request(engine, "GET", "/notes/bench/");
    const live = await time(() => engine.api.takeSnapshot({ objectId: id, label: `live ${run}` }));
    results["snapshot, live"]!.push(live.ms);
    bytes = live.value.bytes;
    await engine.api.hibernate(id);
    results["snapshot, hibernating"]!.push(
      (await time(() => engine.api.takeSnapshot({ objectId: id, label: `file ${run}` }))).ms,
    );
    await engine.api.writeSql({ objectId: id, sql: "UPDATE notes SET text = text || '!' WHERE id <= 1000" });
    await engine.api.writeSql({ objectId: id, sql: `DELETE FROM notes WHERE id > ${ROWS - 999}` });
    await engine.api.writeSql({
      objectId: id,
      sql: `INSERT INTO notes (id, text) SELECT id + ${ROWS * 2}, text FROM notes WHERE id <= 1000`,
    });
    const diff = await time(() => engine.api.diffSnapshots({ objectId: id, from: live.value.id }));
    const c = diff.value.tables[0]!.counts;
    if (c.added !== 1000 || c.changed !== 1000 || c.removed !== 1000) throw new Error(JSON.stringify(c));
    results["diff to now (3,000 rows differ)"]!.push(diff.ms);
    results["restore (until the next request answers)"]!.push(
      (
        await time(async () => {
          await engine.api.restoreSnapshot({ objectId: id, snapshotId: live.value.id });
          await request(engine, "GET", "/notes/bench/?x");
        })
      ).ms,
    );
  }
  console.log(
    `one object, ${ROWS.toLocaleString()} rows, snapshot ${(bytes / 1024 / 1024).toFixed(1)} MB; median of ${RUNS}`,
  );
  for (const [name, xs] of Object.entries(results))
    console.log(
      `  ${name.padEnd(44)} ${median(xs).toFixed(0).padStart(6)} ms   (${xs.map((x) => x.toFixed(0)).join(", ")})`,
    );
} finally {
  await engine.close();
  project.cleanup();
}
