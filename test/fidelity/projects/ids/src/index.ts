import { DurableObject } from "cloudflare:workers";

export interface Env {
  USERS: DurableObjectNamespace<User>;
  ROOMS: DurableObjectNamespace<Room>;
}

function whoAmI(ctx: DurableObjectState) {
  return { id: ctx.id.toString(), name: ctx.id.name ?? null };
}

export class User extends DurableObject<Env> {
  whoAmI() {
    return whoAmI(this.ctx);
  }

  sameAs(id: string): boolean {
    return this.ctx.id.equals(this.env.USERS.idFromString(id));
  }
}

export class Room extends DurableObject<Env> {
  whoAmI() {
    return whoAmI(this.ctx);
  }
}

function attempt(fn: () => unknown): unknown {
  try {
    return { ok: fn() };
  } catch (error) {
    return error instanceof Error
      ? { error: { name: error.name, message: error.message } }
      : { error: String(error) };
  }
}

const HEX64 = /^[0-9a-f]{64}$/;

export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    const url = new URL(request.url);
    switch (url.pathname) {
      // Ids of the given names in both namespaces, for comparison with Terrarium's derivation.
      case "/from-names": {
        const names = url.searchParams.getAll("name");
        return Response.json(
          names.map((name) => ({
            name,
            User: env.USERS.idFromName(name).toString(),
            Room: env.ROOMS.idFromName(name).toString(),
          })),
        );
      }
      case "/properties": {
        const alice = env.USERS.idFromName("alice");
        const again = env.USERS.idFromName("alice");
        const bob = env.USERS.idFromName("bob");
        const room = env.ROOMS.idFromName("alice");
        const parsed = env.USERS.idFromString(alice.toString());
        const upper = attempt(() => env.USERS.idFromString(alice.toString().toUpperCase()).toString());
        return Response.json({
          alice: alice.toString(),
          aliceName: alice.name ?? null,
          equalsAgain: alice.equals(again),
          equalsBob: alice.equals(bob),
          equalsOtherNamespace: alice.equals(room),
          sameStringOtherNamespace: alice.toString() === room.toString(),
          parsedEquals: parsed.equals(alice),
          parsedString: parsed.toString(),
          parsedName: parsed.name ?? null,
          upperCase: upper,
          jsonOfId: JSON.stringify({ id: alice }),
          jsonOfParsedId: JSON.stringify({ id: parsed }),
          jsonOfUniqueId: JSON.stringify({ id: env.USERS.newUniqueId() }),
          templated: `${alice}` === alice.toString(),
          emptyName: env.USERS.idFromName("").toString(),
          unicodeName: env.USERS.idFromName("été 😀").toString(),
        });
      }
      case "/parse-errors": {
        const userId = env.USERS.idFromName("alice").toString();
        const roomId = env.ROOMS.idFromName("alice").toString();
        return Response.json({
          otherNamespace: attempt(() => env.USERS.idFromString(roomId)),
          flippedLastDigit: attempt(() =>
            env.USERS.idFromString(userId.slice(0, 63) + (userId.endsWith("0") ? "1" : "0")),
          ),
          tooShort: attempt(() => env.USERS.idFromString(userId.slice(0, 63))),
          tooLong: attempt(() => env.USERS.idFromString(userId + "0")),
          notHex: attempt(() => env.USERS.idFromString("z".repeat(64))),
          empty: attempt(() => env.USERS.idFromString("")),
        });
      }
      case "/unique": {
        const a = env.USERS.newUniqueId();
        const b = env.USERS.newUniqueId();
        const parsed = env.USERS.idFromString(a.toString());
        const inside = await env.USERS.get(a).whoAmI();
        return Response.json({
          length: a.toString().length,
          isLowerHex: HEX64.test(a.toString()),
          name: a.name ?? null,
          distinct: !a.equals(b) && a.toString() !== b.toString(),
          parsedEquals: parsed.equals(a),
          otherNamespaceRejects: attempt(() => {
            env.ROOMS.idFromString(a.toString());
            return "accepted";
          }),
          insideMatches: inside.id === a.toString(),
          insideName: inside.name,
          sameAs: await env.USERS.get(a).sameAs(a.toString()),
        });
      }
      case "/inside": {
        const name = url.searchParams.get("name") ?? "alice";
        const viaGetByName = await env.USERS.getByName(name).whoAmI();
        const viaIdFromName = await env.USERS.get(env.USERS.idFromName(name)).whoAmI();
        const viaIdFromString = await env.USERS.get(
          env.USERS.idFromString(env.USERS.idFromName(name).toString()),
        ).whoAmI();
        const room = await env.ROOMS.getByName(name).whoAmI();
        return Response.json({ viaGetByName, viaIdFromName, viaIdFromString, room });
      }
      // The object is first reached by an id parsed from a string, which
      // carries no name; later stubs by name reach the same live object.
      case "/inside-from-string": {
        const name = url.searchParams.get("name") ?? "dave";
        const viaIdFromString = await env.USERS.get(
          env.USERS.idFromString(env.USERS.idFromName(name).toString()),
        ).whoAmI();
        const viaGetByName = await env.USERS.getByName(name).whoAmI();
        return Response.json({ viaIdFromString, viaGetByName });
      }
      default:
        return Response.json({ error: "not found" }, { status: 404 });
    }
  },
};
