import { describe, expect, it } from "vitest";
import { idFromName, idFromString, namespaceKey, newUniqueId } from "../../../runtime/shared/ids.ts";

describe("Durable Object ids", () => {
  const ns = namespaceKey("myworker", "Counter");

  it("derives idFromName exactly as workerd does", () => {
    // Read from workerd (Miniflare 4.20260426) for worker "myworker", class "Counter".
    expect(idFromName(ns, "hello")).toBe("3bfb3e27227b0586b8b138bf3af97b8e76956fcd7e74efba776fd0f0c247e8e6");
  });

  it("is stable and namespace-specific", () => {
    expect(idFromName(ns, "a")).toBe(idFromName(namespaceKey("myworker", "Counter"), "a"));
    expect(idFromName(ns, "a")).not.toBe(idFromName(namespaceKey("myworker", "Other"), "a"));
    expect(idFromName(ns, "a")).not.toBe(idFromName(namespaceKey("otherworker", "Counter"), "a"));
  });

  it("round-trips through idFromString and rejects foreign or malformed ids", () => {
    const unique = newUniqueId(ns);
    expect(unique).toMatch(/^[0-9a-f]{64}$/);
    expect(idFromString(ns, unique.toUpperCase())).toBe(unique);
    expect(() => idFromString(namespaceKey("myworker", "Other"), unique)).toThrow(TypeError);
    expect(() => idFromString(ns, "xyz")).toThrow(/64 hex/);
  });
});
