#!/usr/bin/env node
// The terrarium CLI. The engine is TypeScript; tsx compiles it on load.
import { register } from "tsx/esm/api";

register();
const { main } = await import("../runtime/cli/main.ts");
await main(process.argv.slice(2));
