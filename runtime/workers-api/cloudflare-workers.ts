/**
 * Terrarium's `cloudflare:workers` module. Object and entry code imports it
 * exactly as on Cloudflare; the bundler resolves the specifier here. It is
 * bundled into the user's code, so it must stay free of Node APIs.
 */
interface TerrariumGlobal {
  env: Record<string, unknown>;
}

const host = (globalThis as unknown as { __terrarium?: TerrariumGlobal }).__terrarium;

/** The project's `env`, also importable at module scope as on Cloudflare. */
export const env: Record<string, unknown> = host?.env ?? {};

export class DurableObject<Env = unknown> {
  protected ctx: unknown;
  protected env: Env;
  constructor(ctx: unknown, env: Env) {
    this.ctx = ctx;
    this.env = env;
  }
}

export class WorkerEntrypoint<Env = unknown> {
  protected ctx: unknown;
  protected env: Env;
  constructor(ctx: unknown, env: Env) {
    this.ctx = ctx;
    this.env = env;
  }
}

export class RpcTarget {}

export class WorkflowEntrypoint<Env = unknown> {
  protected ctx: unknown;
  protected env: Env;
  constructor(ctx: unknown, env: Env) {
    this.ctx = ctx;
    this.env = env;
  }
}
