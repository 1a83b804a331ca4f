import { describe, expect, it } from "vitest";
import { expandTemplate, topicMatches } from "../../../runtime/event-bus/event-bus.ts";

describe("event bus matching", () => {
  it("matches exact topics, prefixes and everything", () => {
    expect(topicMatches("user.created", "user.created")).toBe(true);
    expect(topicMatches("user.*", "user.deleted")).toBe(true);
    expect(topicMatches("user.*", "users.x")).toBe(false);
    expect(topicMatches("*", "anything")).toBe(true);
  });

  it("names subscriber objects from event data", () => {
    expect(expandTemplate("inbox-{data.userId}", { userId: 7 })).toBe("inbox-7");
    expect(expandTemplate("global", {})).toBe("global");
  });
});
