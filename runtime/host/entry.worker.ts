// Worker thread entry: the project's stateless entry Worker.
import { startIsolate } from "./isolate.ts";

startIsolate();
