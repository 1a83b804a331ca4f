import { Client, http, type Runtime } from "../harness.ts";

/**
 * An Agents SDK project (agents on npm) as `npm create cloudflare` makes
 * it: an Agent with initialState/setState synced to clients, @callable()
 * methods called over the agents WebSocket protocol, this.sql, and
 * this.schedule(), reached through routeAgentRequest.
 */

interface RpcReply {
  type: "rpc";
  id: string;
}

function isRpcReply(id: string): (m: unknown) => boolean {
  return (m) =>
    typeof m === "object" && m !== null && (m as RpcReply).type === "rpc" && (m as RpcReply).id === id;
}

function typed(type: string): (m: unknown) => boolean {
  return (m) => typeof m === "object" && m !== null && (m as { type?: unknown }).type === type;
}

function isState(pred: (state: Record<string, unknown>) => boolean): (m: unknown) => boolean {
  return (m) => typed("cf_agent_state")(m) && pred((m as { state: Record<string, unknown> }).state);
}

/**
 * An Agent broadcasts its MCP server list (cf_agent_mcp_servers) to every
 * connection each time it starts, and so after every wake from hibernation.
 * Terrarium hibernates the object between steps; workerd under Miniflare
 * keeps it in memory for the whole scenario, so it never sends those
 * mid-session. Steps after the first connect leave them out.
 */
function withoutStartBroadcasts(messages: unknown[]): unknown[] {
  return messages.filter((m) => !typed("cf_agent_mcp_servers")(m));
}

let calls = 0;

/** Calls a @callable() method the way AgentClient does; resolves with every message up to its reply. */
async function call(client: Client, method: string, ...args: unknown[]): Promise<unknown[]> {
  const id = `call-${++calls}`;
  client.send({ type: "rpc", id, method, args });
  return withoutStartBroadcasts(await client.until(isRpcReply(id)));
}

export async function scenario(rt: Runtime, note: (label: string, seen: unknown) => void): Promise<void> {
  calls = 0;
  note("GET the agent over HTTP (onRequest)", await http(rt, "GET", "/agents/counter/alpha"));
  note("GET an unknown path", await http(rt, "GET", "/nothing-here"));

  const ann = await Client.open(rt, "/agents/counter/alpha");
  note("ann connects: identity, state, hello", await ann.until(typed("hello")));
  note("ann calls increment(2)", await call(ann, "increment", 2, "ann"));

  const bob = await Client.open(rt, "/agents/counter/alpha");
  note("bob connects and gets the current state", await bob.until(typed("hello")));
  bob.send({ type: "cf_agent_state", state: { count: 10, lastBy: "bob", reminders: 0 } });
  note(
    "ann sees bob's client-side setState",
    withoutStartBroadcasts(await ann.until(typed("cf_agent_state"))),
  );

  note("ann adds a note (this.sql)", await call(ann, "addNote", "first"));
  note("ann calls a method that is not callable", await call(ann, "remind", { text: "x" }));
  note("ann calls a method that does not exist", await call(ann, "nope"));
  note("ann schedules a reminder in 1 s", await call(ann, "remindMe", 1, "tea"));
  note("the reminder is pending", await call(ann, "pending"));
  note(
    "the scheduled task runs and its setState reaches ann",
    withoutStartBroadcasts(await ann.until(isState((s) => s.reminders === 1))),
  );
  note("bob hears it too", withoutStartBroadcasts(await bob.until(isState((s) => s.reminders === 1))));
  note("nothing is pending any more", await call(ann, "pending"));

  await rt.hibernated("Counter");
  note("bob calls increment(1) after hibernation", await call(bob, "increment", 1, "bob"));
  note("ann hears the new state", withoutStartBroadcasts(await ann.until(typed("cf_agent_state"))));
  note("ann reads the notes", await call(ann, "notes"));
  note(
    "the entry calls increment over RPC (getAgentByName)",
    await http(rt, "POST", "/api/counters/alpha/increment"),
  );
  note("ann hears the RPC's state change", withoutStartBroadcasts(await ann.until(typed("cf_agent_state"))));

  note("bob's close", await bob.close());
  note("ann's close", await ann.close());
  await rt.restart();
  note("GET after a restart", await http(rt, "GET", "/agents/counter/alpha"));
  const cat = await Client.open(rt, "/agents/counter/alpha");
  note("cat connects after the restart", await cat.until(typed("hello")));
  note("cat's close", await cat.close());
}
