import { Client, http, type Runtime } from "../harness.ts";

/**
 * A PartyServer chat room (partyserver on npm): a hibernating Server,
 * routePartykitRequest, onConnect/onMessage broadcast, connection state
 * kept in socket attachments, messages in ctx.storage.sql.
 */
export async function scenario(rt: Runtime, note: (label: string, seen: unknown) => void): Promise<void> {
  note("GET an empty room", await http(rt, "GET", "/parties/chat/lobby"));
  note("GET an unknown party", await http(rt, "GET", "/parties/nope/lobby"));

  const ann = await Client.open(rt, "/parties/chat/lobby?user=ann");
  note("ann is welcomed", await ann.next());
  const bob = await Client.open(rt, "/parties/chat/lobby?user=bob");
  note("bob is welcomed", await bob.next());
  note("ann hears bob join", await ann.next());

  ann.send("hello");
  note("ann's message, to ann", await ann.next());
  note("ann's message, to bob", await bob.next());
  note("GET while both are online", await http(rt, "GET", "/parties/chat/lobby"));

  await rt.hibernated("Chat");
  bob.send("still here");
  note("bob's message after hibernation, to ann", await ann.next());
  note("bob's message after hibernation, to bob", await bob.next());
  note("GET after hibernation", await http(rt, "GET", "/parties/chat/lobby"));
  note("the entry calls the room over RPC (getServerByName)", await http(rt, "GET", "/api/rooms/lobby"));
  note("a room nobody opened, over RPC", await http(rt, "GET", "/api/rooms/empty"));

  note("bob leaves: his close", await bob.close());
  note("ann hears bob leave", await ann.next());
  note("ann leaves: her close", await ann.close());

  await rt.restart();
  note("GET after a restart", await http(rt, "GET", "/parties/chat/lobby"));
  const cat = await Client.open(rt, "/parties/chat/lobby?user=cat");
  note("cat is welcomed with the history", await cat.next());
  note("cat leaves: her close", await cat.close());

  // A room that does not hibernate keeps its connections in memory.
  const one = await Client.open(rt, "/parties/cursors/board");
  note("the first cursor connects", await one.next());
  const two = await Client.open(rt, "/parties/cursors/board");
  note("the second cursor connects", await two.next());
  two.send("x=1,y=2");
  note("a move reaches the other cursor", await one.next());
  note("GET the in-memory room", await http(rt, "GET", "/parties/cursors/board"));
  note("the first cursor's close", await one.close());
  note("the second cursor's close", await two.close());
}
