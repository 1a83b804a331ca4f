// The child's half of the utilityProcess stand-in (utility-process.ts):
// process.parentPort over Node's IPC channel, then the module itself.
import { pathToFileURL } from "node:url";

type Listener = (e: { data: unknown }) => void;

const parentPort = {
  on(event: "message", listener: Listener) {
    if (event === "message") process.on("message", (data) => listener({ data }));
    return parentPort;
  },
  postMessage(message: unknown) {
    if (process.connected) process.send!(message);
  },
};
(process as unknown as { parentPort: typeof parentPort }).parentPort = parentPort;
process.on("disconnect", () => process.exit(0));

await import(pathToFileURL(process.argv[2]!).href);
