import { WorkerEntrypoint } from "./cloudflare-workers.ts";

/**
 * Terrarium's `cloudflare:pipelines`: the base class of a pipeline
 * transformation. It can be extended and exported; Terrarium has no
 * Pipelines to call `run` on it.
 */
export abstract class PipelineTransformationEntrypoint<
  Env = unknown,
  I = unknown,
  O = unknown,
> extends WorkerEntrypoint<Env> {
  abstract run(records: I[], metadata: unknown): Promise<O[]>;
}
