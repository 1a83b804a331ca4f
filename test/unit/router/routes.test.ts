import { describe, expect, it } from "vitest";
import { compileRoute, matchRoute } from "../../../runtime/router/routes.ts";

describe("routes", () => {
  const routes = [
    compileRoute({ pattern: "/users/:id/profile", binding: "USERS", object: "user-{id}", method: "GET" }),
    compileRoute({ pattern: "/files/*", binding: "FILES", object: "{header.x-tenant}" }),
    compileRoute({ pattern: "/q", binding: "Q", object: "{query.room}" }),
  ];
  const m = (method: string, path: string, headers: Record<string, string> = {}) =>
    matchRoute(routes, method, new URL(path, "http://h"), new Headers(headers));

  it("matches params, wildcards, headers and query into an object name", () => {
    expect(m("GET", "/users/42/profile")?.objectName).toBe("user-42");
    expect(m("POST", "/users/42/profile")).toBeNull();
    expect(m("PUT", "/files/a/b.txt", { "x-tenant": "acme" })?.objectName).toBe("acme");
    expect(m("GET", "/q?room=lobby")?.objectName).toBe("lobby");
    expect(m("GET", "/other")).toBeNull();
  });
});
