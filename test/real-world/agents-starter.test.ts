import { describe, expect, it } from "vitest";
import { runUnder, startReference, startTerrarium, type Transcript } from "./harness.ts";
import { scenario } from "./scenarios/agents-starter.ts";

describe("real world: Agents SDK starter", () => {
  let reference: Transcript | undefined;

  it("runs its scenario under workerd", async () => {
    const { transcript } = await runUnder(startReference, "agents-starter", scenario);
    reference = transcript;
    expect(transcript.filter(([label]) => label === "FAILED")).toEqual([]);
  }, 60_000);

  it("answers as workerd does under terrarium serve, across hibernation and a restart", async () => {
    const expected = reference ?? (await runUnder(startReference, "agents-starter", scenario)).transcript;
    const { transcript, output } = await runUnder(startTerrarium, "agents-starter", scenario);
    expect(transcript, output).toEqual(expected);
  }, 90_000);
});
