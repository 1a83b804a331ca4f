import type { Engine } from "../engine.ts";
import type { ControlApi, WakeReport } from "./contract.ts";
import { schemas } from "./contract.ts";

type AwakeMethods = Pick<ControlApi, "whyAwake" | "hibernateAndWake">;

/** An object that cannot hibernate now; the message says what holds it. */
export class StillAwakeError extends Error {
  override name = "StillAwakeError";
}

/**
 * "Why is it awake?" and "hibernate now, then wake" on an object's page.
 * Arguments are parsed with the contract's schemas, as in control-api.ts.
 */
export function awakeTools(engine: Engine): AwakeMethods {
  const lifecycle = engine.lifecycle;
  return {
    async whyAwake(objectId) {
      const id = schemas.objectId.parse(objectId);
      const why = await lifecycle.whyAwake(id, { probe: true });
      if (!why) throw new Error(`no object with id ${id}`);
      return why;
    },

    async hibernateAndWake(objectId) {
      const id = schemas.objectId.parse(objectId);
      const started = performance.now();
      const why = await lifecycle.whyAwake(id, { probe: true });
      if (!why) throw new Error(`no object with id ${id}`);
      const before = why.fields;
      if (why.awake) {
        const held = why.reasons.filter((r) => r.blocks);
        if (held.length > 0 || !(await lifecycle.hibernate(id, "hibernated from the object page"))) {
          throw new StillAwakeError(
            `the object cannot hibernate now: ${held.map((r) => r.detail).join("; ") || `it is ${why.state}`}`,
          );
        }
      }
      await lifecycle.wake(id, "woken from the object page");
      const after = (await lifecycle.fields(id)) ?? {};
      const lost: WakeReport["lost"] = [];
      const kept: string[] = [];
      for (const [field, value] of Object.entries(before ?? {})) {
        if (after[field] === value) kept.push(field);
        else lost.push({ field, before: value, after: after[field] ?? null });
      }
      const sockets = lifecycle.sockets
        .list(id)
        .filter((s) => s.hibernatable && s.open)
        .map((s) => ({ id: s.id, tags: s.tags, attachmentBytes: s.attachmentBytes }));
      return {
        wasAwake: why.awake,
        before,
        after,
        lost,
        kept,
        added: Object.keys(after).filter((f) => !(before && f in before)),
        sockets,
        durationMs: Math.round(performance.now() - started),
      };
    },
  };
}
