import { describe, expect, it } from "vitest";
import { runUnder, startReference, startTerrarium, type Transcript } from "./harness.ts";
import { scenario as agentsStarter } from "./scenarios/agents-starter.ts";
import { scenario as mcpServer } from "./scenarios/mcp-server.ts";
import { scenario as partyserverChat } from "./scenarios/partyserver-chat.ts";
import { scenario as workersChat } from "./scenarios/workers-chat.ts";
import { scenario as shopOrders } from "./scenarios/shop-orders.ts";

/**
 * Each project under projects/ is driven through its scenario under workerd
 * (the reference) and under `terrarium serve`, across a hibernation and a
 * restart on the same data folder; the transcripts must be equal. A
 * `knownGap` says why Terrarium cannot run a project yet: its test then
 * asserts that it still fails, so a fix asks for the entry to be cleared.
 */
const PROJECTS = [
  { project: "agents-starter", title: "Agents SDK starter", scenario: agentsStarter, knownGap: null },
  { project: "partyserver-chat", title: "PartyServer chat", scenario: partyserverChat, knownGap: null },
  { project: "workers-chat", title: "workers-chat-demo", scenario: workersChat, knownGap: null },
  {
    project: "mcp-server",
    title: "remote MCP server (McpAgent)",
    scenario: mcpServer,
    knownGap: null,
  },
  {
    project: "shop-orders",
    title: "two Workers: KV, a queue, a workflow and a secret",
    scenario: shopOrders,
    knownGap: null,
  },
] as const;

describe.each(PROJECTS)("real world: $title", ({ project, scenario, knownGap }) => {
  let reference: Transcript | undefined;

  it("runs its scenario under workerd", async () => {
    const { transcript } = await runUnder(startReference, project, scenario);
    reference = transcript;
    expect(transcript.filter(([label]) => label === "FAILED")).toEqual([]);
  }, 60_000);

  (knownGap ? it.fails : it)(
    knownGap
      ? `differs from workerd (known gap: ${knownGap})`
      : "answers as workerd does under terrarium serve, across hibernation and a restart",
    async () => {
      const expected = reference ?? (await runUnder(startReference, project, scenario)).transcript;
      const { transcript, output } = await runUnder(startTerrarium, project, scenario);
      expect(transcript, output).toEqual(expected);
    },
    90_000,
  );
});
