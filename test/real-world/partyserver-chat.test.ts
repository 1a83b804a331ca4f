import { describe, expect, it } from "vitest";
import { runUnder, startReference, startTerrarium, type Transcript } from "./harness.ts";
import { scenario } from "./scenarios/partyserver-chat.ts";

describe("real world: PartyServer chat", () => {
  let reference: Transcript | undefined;

  it("runs its scenario under workerd", async () => {
    const { transcript } = await runUnder(startReference, "partyserver-chat", scenario);
    reference = transcript;
    expect(transcript.filter(([label]) => label === "FAILED")).toEqual([]);
  }, 60_000);

  it("answers as workerd does under terrarium serve, across hibernation and a restart", async () => {
    const expected = reference ?? (await runUnder(startReference, "partyserver-chat", scenario)).transcript;
    const { transcript, output } = await runUnder(startTerrarium, "partyserver-chat", scenario);
    expect(transcript, output).toEqual(expected);
  }, 90_000);
});
