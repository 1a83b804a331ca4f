import type { Engine } from "../engine.ts";
import type { ObjectRecord } from "../registry/registry.ts";
import type { ControlApi } from "./contract.ts";
import { schemas, timeSchemas } from "./contract.ts";
import { objectHome } from "./object-home.ts";

type TimeMethods = Pick<
  ControlApi,
  | "snapshots"
  | "takeSnapshot"
  | "diffSnapshots"
  | "restoreSnapshot"
  | "deleteSnapshot"
  | "resetState"
  | "classVersions"
  | "classVersionText"
  | "objectVersion"
  | "rollbackClass"
>;

/**
 * The control methods for time travel of objects' storage (snapshots,
 * diffs, restore, reset) and for class versions and rollback. Arguments are
 * parsed with the contract's schemas, as in control-api.ts.
 */
export function timeTools(engine: Engine): TimeMethods {
  const tt = engine.timeTravel;
  const record = (id: string): ObjectRecord => {
    const r = engine.registry.get(schemas.objectId.parse(id));
    if (!r) throw new Error(`no object with id ${id}`);
    return r;
  };
  const knownClass = (className: string): void => {
    if (!engine.registry.classes().some((c) => c.className === className))
      throw new Error(`the project has no class ${className}`);
  };

  return {
    // An object's snapshots are kept by the Worker it lives in (object-home.ts): another
    // Worker's (-c) under <data>/workers/<name>/.
    async snapshots(objectId) {
      const h = objectHome(engine, objectId);
      return h.timeTravel.list(h.r);
    },

    async takeSnapshot(spec) {
      const { objectId, label } = timeSchemas.takeSnapshot.parse(spec);
      const h = objectHome(engine, objectId);
      return h.timeTravel.snapshot(h.r, "manual", label || null);
    },

    async diffSnapshots(spec) {
      const { objectId, from, to } = timeSchemas.diff.parse(spec);
      const h = objectHome(engine, objectId);
      return h.timeTravel.diff(h.r, from, to ?? null);
    },

    async restoreSnapshot(spec) {
      const { objectId, snapshotId } = timeSchemas.snapshot.parse(spec);
      const h = objectHome(engine, objectId);
      return h.timeTravel.restore(h.r, snapshotId);
    },

    async deleteSnapshot(spec) {
      const { objectId, snapshotId } = timeSchemas.snapshot.parse(spec);
      const h = objectHome(engine, objectId);
      return h.timeTravel.store.remove(h.r.className, h.r.id, snapshotId);
    },

    async resetState(spec) {
      const s = timeSchemas.reset.parse(spec);
      let recs: ObjectRecord[];
      if ("objectId" in s) {
        const h = objectHome(engine, s.objectId);
        return h.timeTravel.reset([h.r]);
      } else if ("className" in s) {
        knownClass(s.className);
        recs = [...engine.registry.objects()].filter((r) => r.className === s.className);
      } else recs = [...engine.registry.objects()];
      return tt.reset(recs);
    },

    async classVersions(className) {
      const c = timeSchemas.className.parse(className);
      knownClass(c);
      const live: Record<string, number> = {};
      for (const r of engine.lifecycle.liveRecords()) {
        if (r.className !== c) continue;
        const v = engine.history.ofObject(r.id);
        if (v) live[v] = (live[v] ?? 0) + 1;
      }
      return {
        className: c,
        versions: engine.history.versions.history(c),
        current: engine.history.current(c),
        live,
      };
    },

    async classVersionText(ref) {
      const { className, hash } = timeSchemas.version.parse(ref);
      if (!engine.history.versions.history(className).some((v) => v.hash === hash))
        throw new Error(`class ${className} has no version ${hash.slice(0, 8)}`);
      return engine.history.versions.text(hash);
    },

    async objectVersion(objectId) {
      return engine.history.ofObject(record(objectId).id);
    },

    async rollbackClass(ref) {
      const { className, hash } = timeSchemas.version.parse(ref);
      knownClass(className);
      return engine.rollbackClass(className, hash);
    },
  };
}
