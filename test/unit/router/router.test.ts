import { afterEach, describe, expect, it } from "vitest";
import type { RouteConfig } from "../../../runtime/config/terrarium.ts";
import type { SerializedRequest, SerializedResponse } from "../../../runtime/host/protocol.ts";
import { RequestRouter, type RouteTarget } from "../../../runtime/router/router.ts";
import { SocketHub } from "../../../runtime/router/sockets.ts";
import { ObjectError } from "../../../runtime/shared/errors.ts";
import { until } from "../../helpers/project.ts";

// The Request Router on a real HTTP server on 127.0.0.1. The Lifecycle
// Manager behind it is its RouteTarget, played here by a recorder: the
// router's part is which one call a request becomes, and how the answer
// (or the error) reaches the client.

interface Call {
  kind: "routed" | "entry";
  binding?: string;
  objectName?: string;
  /** The route's expand() applied to a template the test chose. */
  expanded?: string;
  req: SerializedRequest;
}

const text = (status: number, body: string): SerializedResponse => ({
  status,
  statusText: "",
  headers: [["content-type", "text/plain"]],
  body: new TextEncoder().encode(body).buffer as ArrayBuffer,
});

function recorder(answer: (call: Call) => Promise<SerializedResponse> | SerializedResponse) {
  const calls: Call[] = [];
  const target: RouteTarget = {
    routedFetch: async (route, req) => {
      const call: Call = {
        kind: "routed",
        binding: route.binding,
        objectName: route.objectName,
        expanded: route.expand("{query.tenant}/{header.x-shard}/{id}"),
        req,
      };
      calls.push(call);
      return answer(call);
    },
    entryFetch: async (req) => {
      const call: Call = { kind: "entry", req };
      calls.push(call);
      return answer(call);
    },
  };
  return { calls, target };
}

const routes: RouteConfig[] = [
  { pattern: "/rooms/:id", binding: "ROOMS", object: "room-{id}", method: "POST" },
];

const routers: RequestRouter[] = [];
afterEach(async () => {
  for (const r of routers.splice(0)) await r.close(0);
});

async function serve(target: RouteTarget): Promise<{ router: RequestRouter; url: string }> {
  const router = new RequestRouter(target, routes, new SocketHub());
  routers.push(router);
  const port = await router.listen(0);
  return { router, url: `http://127.0.0.1:${port}` };
}

describe("the Request Router", () => {
  it("makes a routed request one call to the Lifecycle Manager, with the route's binding and object", async () => {
    const { calls, target } = recorder((c) => text(200, `${c.kind} ${c.objectName ?? ""}`));
    const { url } = await serve(target);
    const res = await fetch(`${url}/rooms/lobby?tenant=acme`, {
      method: "POST",
      headers: { "x-shard": "7" },
      body: "hello",
    });
    expect(res.status).toBe(200);
    expect(await res.text()).toBe("routed room-lobby");
    expect(calls).toHaveLength(1);
    const [call] = calls;
    expect(call).toMatchObject({ kind: "routed", binding: "ROOMS", objectName: "room-lobby" });
    // The same request expands the sharding key's template (query, header, path parameter).
    expect(call!.expanded).toBe("acme/7/lobby");
    expect(call!.req.method).toBe("POST");
    expect(call!.req.url).toBe(`${url}/rooms/lobby?tenant=acme`);
    expect(new TextDecoder().decode(call!.req.body!)).toBe("hello");
  });

  it("hands every other request to the entry Worker", async () => {
    const { calls, target } = recorder((c) => text(201, c.kind));
    const { url } = await serve(target);
    // A route's method that does not match is not the route.
    const res = await fetch(`${url}/rooms/lobby`);
    expect(res.status).toBe(201);
    expect(await res.text()).toBe("entry");
    expect(calls.map((c) => c.kind)).toEqual(["entry"]);
  });

  it("answers an ObjectError with its status and message, and anything else thrown with a 500", async () => {
    const { target } = recorder((c) => {
      if (c.kind === "routed") throw new ObjectError("not an id of this namespace", 400);
      throw new TypeError("boom");
    });
    const { url } = await serve(target);
    const bad = await fetch(`${url}/rooms/x`, { method: "POST" });
    expect(bad.status).toBe(400);
    expect(bad.headers.get("x-terrarium-error")).toBe("1");
    expect(await bad.text()).toBe("ObjectError: not an id of this namespace\n");
    const broken = await fetch(`${url}/other`);
    expect(broken.status).toBe(500);
    expect(await broken.text()).toBe("TypeError: boom\n");
  });

  it("gives a body its length, and none where HTTP allows none", async () => {
    const { target } = recorder((c) =>
      c.req.url.endsWith("/empty")
        ? { status: 204, statusText: "", headers: [], body: null }
        : text(200, "four"),
    );
    const { url } = await serve(target);
    const full = await fetch(`${url}/full`);
    expect(full.headers.get("content-length")).toBe("4");
    expect(full.headers.get("transfer-encoding")).toBeNull();
    const empty = await fetch(`${url}/empty`);
    expect(empty.status).toBe(204);
    expect(empty.headers.get("content-length")).toBeNull();
  });

  it("on close, answers a request still in flight with a 503 saying why, and counts it", async () => {
    const { calls, target } = recorder(() => new Promise<SerializedResponse>(() => {}));
    const { router, url } = await serve(target);
    const pending = fetch(`${url}/slow`);
    await until(() => calls.length === 1 && router.inFlight === 1, "the request to reach the entry Worker");
    const cut = await router.close(0, "stopped for the test");
    expect(cut).toBe(1);
    const res = await pending;
    expect(res.status).toBe(503);
    expect(await res.text()).toBe("stopped for the test\n");
  });
});
