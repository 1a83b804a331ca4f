import type { Engine } from "../engine.ts";
import type { ObjectRecord } from "../registry/registry.ts";
import type { ControlApi } from "./contract.ts";
import { objectSchemas, schemas } from "./contract.ts";
import { errorResult, httpResult, serializedRequest } from "./http-result.ts";
import { bindingsOf as homeBindings, objectHome } from "./object-home.ts";

type ObjectMethods = Pick<ControlApi, "objectSockets" | "objectEvents" | "objectRequest" | "writeSql">;

/** An object's request is refused with this when it asks to upgrade (the WebSocket tab does that). */
export class UpgradeRefused extends Error {
  override name = "UpgradeRefused";
}

/** A write refused because the object's worker has its database open. */
export class ObjectLiveError extends Error {
  override name = "ObjectLiveError";
}

/**
 * The control methods behind one object's page in the Inspector: its
 * sockets, its events, a request sent straight to it, and SQL that writes.
 * Arguments are parsed with the contract's schemas, as in control-api.ts.
 * A request and a write reach another Worker's (-c) object in that Worker
 * (object-home.ts); sockets and events are the project Worker's.
 */
export function objectTools(engine: Engine): ObjectMethods {
  const record = (id: string): ObjectRecord => {
    const r = engine.registry.get(id);
    if (!r) throw new Error(`no object with id ${id}`);
    return r;
  };
  const bindingsOf = (className: string): string[] =>
    engine.registry.classes().find((c) => c.className === className)?.bindings ?? [];

  return {
    async objectSockets(objectId) {
      const id = schemas.objectId.parse(objectId);
      return engine.sockets.list(id).sort((a, b) => a.openedAt - b.openedAt || a.id.localeCompare(b.id));
    },

    async objectEvents(q) {
      const { objectId, limit } = objectSchemas.events.parse(q);
      const r = record(objectId);
      return engine.eventBus.ofObject(r, bindingsOf(r.className), limit ?? 100);
    },

    async objectRequest(spec) {
      const { objectId, ...request } = objectSchemas.request.parse(spec);
      const home = objectHome(engine, objectId);
      const r = home.r;
      if (request.headers?.some(([k, v]) => k.toLowerCase() === "upgrade" && v.trim() !== ""))
        throw new UpgradeRefused(
          "a WebSocket upgrade cannot be sent from here; use the console's WebSocket tab",
        );
      const binding = homeBindings(home)[0];
      if (!binding) throw new Error(`the project no longer binds the class ${r.className}`);
      const started = performance.now();
      try {
        const res = await home.lifecycle.objectFetch(
          binding,
          r.id,
          r.name,
          serializedRequest(request, engine.url ?? "http://127.0.0.1"),
          null,
        );
        return httpResult(res, started);
      } catch (e) {
        return errorResult(e, started);
      }
    },

    async writeSql(spec) {
      const { objectId, sql, params } = objectSchemas.writeSql.parse(spec);
      const { r, lifecycle, state, registry } = objectHome(engine, objectId);
      // A live object's worker has the database open: the write runs there,
      // between the object's events, and its cached statements are dropped.
      const live = await lifecycle.adminSql(r.id, sql, params ?? []);
      if (live) return live;
      // NOTE: the check and the write are one synchronous stretch on the main
      // thread, so no activation can begin between them. A worker that is, or
      // is becoming, this object may have its database open.
      if ((r.state !== "Hibernating" && r.state !== "Created") || lifecycle.hostsObject(r.id)) {
        throw new ObjectLiveError(
          `the object is ${r.state} and its worker is busy changing hands; try again, or hibernate it first`,
        );
      }
      const result = state.query(r.className, r.id, sql, params ?? [], { allowWrites: true });
      r.storageBytes = state.storageBytes(r.className, r.id);
      registry.touch(r);
      return result;
    },
  };
}
