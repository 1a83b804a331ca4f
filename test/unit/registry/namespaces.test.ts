import { describe, expect, it } from "vitest";
import { Namespaces } from "../../../runtime/registry/namespaces.ts";
import { ObjectError } from "../../../runtime/shared/errors.ts";
import { idFromName, namespaceKey, newUniqueId } from "../../../runtime/shared/ids.ts";

// The Service Registry's binding -> class map and id checks, against the id
// functions workerd's ids are checked with (test/unit/shared).

const ns = new Namespaces(
  "shop",
  new Map([
    ["CARTS", "Cart"],
    ["CARTS_AGAIN", "Cart"],
    ["USERS", "User"],
  ]),
);

function rejection(fn: () => unknown): ObjectError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ObjectError);
    return e as ObjectError;
  }
  throw new Error("it did not throw");
}

describe("Namespaces (binding -> class, id checks)", () => {
  it("names an object by name as env.<binding>.idFromName does", () => {
    const cartKey = namespaceKey("shop", "Cart");
    expect(ns.byName("CARTS", "alice")).toEqual({ className: "Cart", id: idFromName(cartKey, "alice") });
    // Two bindings to one class share its namespace.
    expect(ns.byName("CARTS_AGAIN", "alice")).toEqual(ns.byName("CARTS", "alice"));
    expect(ns.byName("USERS", "alice").id).not.toBe(ns.byName("CARTS", "alice").id);
  });

  it("accepts an id of the binding's namespace, in any case, as its lower-case form", () => {
    const id = newUniqueId(namespaceKey("shop", "User"));
    expect(ns.byId("USERS", id)).toEqual({ className: "User", id });
    expect(ns.byId("USERS", id.toUpperCase())).toEqual({ className: "User", id });
  });

  it("refuses an id of another namespace, or no id at all, with a 400", () => {
    const cartId = ns.byName("CARTS", "alice").id;
    expect(rejection(() => ns.byId("USERS", cartId)).status).toBe(400);
    expect(rejection(() => ns.byId("USERS", "not-hex")).status).toBe(400);
  });

  it("refuses an unknown binding with a 500 naming it", () => {
    const e = rejection(() => ns.byName("NOPE", "x"));
    expect(e.status).toBe(500);
    expect(e.message).toBe("unknown Durable Object binding NOPE");
    expect(() => ns.classForBinding("NOPE")).toThrow(/NOPE/);
  });
});
