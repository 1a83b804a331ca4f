// Worker thread entry: one Durable Object instance (or, pooled, none yet).
import { startIsolate } from "./isolate.ts";

startIsolate();
