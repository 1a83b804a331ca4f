import { describe, expect, it } from "vitest";
import { OBJECT_KINDS } from "../../../renderer/src/api/object-kinds.ts";
import { OBJECT_KINDS as ENGINE_KINDS } from "../../../runtime/config/terrarium.ts";

describe("the Design panel's object kinds", () => {
  it("are the kinds terrarium.json accepts (the renderer keeps a copy)", () => {
    expect([...OBJECT_KINDS]).toEqual([...ENGINE_KINDS]);
  });
});
