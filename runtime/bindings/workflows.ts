import {
  DEFAULT_EVENT_TIMEOUT,
  DEFAULT_STEP_CONFIG,
  durationMs,
  errorInfo,
  isNonRetryable,
  isValidInstanceId,
  isValidStepConfig,
  isValidStepName,
  STEP_LIMIT,
  userError,
  type RunRef,
  type StepConfig,
  type StepReply,
  type WorkflowAction,
  type WorkflowCall,
  type WorkflowErrorInfo,
  type WorkflowRunResult,
  type WorkflowRunSpec,
  type WorkflowStatus,
} from "./workflow-calls.ts";

/**
 * Workflows as a worker's code sees them: the `env.<binding>` of a
 * `workflows` entry (create, createBatch, get), an instance's handle, and
 * the `step` a running instance's `run(event, step)` gets. Everything that
 * must outlive the run (instances, step results, sleeps, events) is the
 * orchestrator's (runtime/workflows/), reached through `call`;
 * only user code runs here. Errors are workerd's, as user code sees them
 * after they crossed workerd's RPC (see userError).
 */

export type WorkflowCaller = (call: WorkflowCall) => Promise<unknown>;

const fatal = (message: string): Error => userError({ name: "WorkflowFatalError", message });

export class WorkflowInstance {
  readonly id: string;
  readonly #binding: string;
  readonly #call: WorkflowCaller;

  constructor(binding: string, id: string, call: WorkflowCaller) {
    this.#binding = binding;
    this.id = id;
    this.#call = call;
  }

  async #control(action: WorkflowAction): Promise<void> {
    const err = (await this.#call({ op: "control", binding: this.#binding, id: this.id, action })) as
      WorkflowErrorInfo | undefined;
    if (err) throw userError(err);
  }

  pause(): Promise<void> {
    return this.#control("pause");
  }

  resume(): Promise<void> {
    return this.#control("resume");
  }

  terminate(): Promise<void> {
    return this.#control("terminate");
  }

  restart(): Promise<void> {
    return this.#control("restart");
  }

  status(): Promise<WorkflowStatus> {
    return this.#call({ op: "status", binding: this.#binding, id: this.id }) as Promise<WorkflowStatus>;
  }

  async sendEvent(args: { type: string; payload?: unknown }): Promise<void> {
    await this.#call({
      op: "event",
      binding: this.#binding,
      id: this.id,
      type: String(args?.type),
      payload: args?.payload,
    });
  }
}

export class WorkflowBinding {
  readonly #binding: string;
  readonly #call: WorkflowCaller;

  constructor(binding: string, call: WorkflowCaller) {
    this.#binding = binding;
    this.#call = call;
  }

  #options(o: { id?: unknown; params?: unknown } | undefined): { id: string; params: unknown } {
    const id = o?.id ?? crypto.randomUUID();
    if (!isValidInstanceId(id))
      throw userError({ name: "WorkflowError", message: "Workflow instance has invalid id" });
    return { id, params: o?.params ?? {} };
  }

  async create(options?: { id?: string; params?: unknown }): Promise<WorkflowInstance> {
    const one = this.#options(options);
    await this.#call({ op: "create", binding: this.#binding, instances: [one] });
    return new WorkflowInstance(this.#binding, one.id, this.#call);
  }

  async createBatch(batch: { id?: string; params?: unknown }[]): Promise<WorkflowInstance[]> {
    if (!Array.isArray(batch) || batch.length === 0)
      throw new Error("WorkflowError: batchCreate should have at least 1 instance");
    const instances = batch.map((o) => this.#options(o));
    await this.#call({ op: "create", binding: this.#binding, instances });
    return instances.map((i) => new WorkflowInstance(this.#binding, i.id, this.#call));
  }

  async get(id: string): Promise<WorkflowInstance> {
    const exists = await this.#call({ op: "exists", binding: this.#binding, id: String(id) });
    if (!exists) throw new Error("instance.not_found");
    return new WorkflowInstance(this.#binding, String(id), this.#call);
  }
}

class TimedOut {
  constructor(readonly ms: number) {}
}

function withTimeout<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new TimedOut(ms)), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

/** The `step` of one run of an instance. */
export class WorkflowStep {
  readonly #ref: RunRef;
  readonly #call: WorkflowCaller;
  readonly #counts = new Map<string, number>();
  #steps = 0;

  constructor(ref: RunRef, call: WorkflowCaller) {
    this.#ref = ref;
    this.#call = call;
  }

  #count(key: string): number {
    const n = (this.#counts.get(key) ?? 0) + 1;
    this.#counts.set(key, n);
    return n;
  }

  async #step(call: WorkflowCall): Promise<StepReply> {
    const reply = (await this.#call(call)) as StepReply;
    if (reply.kind === "abort") throw new Error(reply.reason);
    return reply;
  }

  async do<T>(
    name: string,
    configOrFn: Partial<StepConfig> | ((ctx: unknown) => Promise<T> | T),
    fn?: (ctx: unknown) => Promise<T> | T,
  ): Promise<T> {
    const closure = (fn ?? configOrFn) as (ctx: unknown) => Promise<T> | T;
    const given = (fn ? configOrFn : {}) as Partial<StepConfig>;
    if (++this.#steps > STEP_LIMIT)
      throw fatal(
        `The limit of ${STEP_LIMIT} steps has been reached. This limit can be changed in your worker configuration.`,
      );
    name = String(name);
    if (!isValidStepName(name))
      throw fatal(`Step name "${name}" exceeds max length (256 chars) or invalid characters found`);
    if (!isValidStepConfig(given))
      throw fatal(
        `Step config for "${name}" is in a invalid format. See https://developers.cloudflare.com/workflows/build/sleeping-and-retrying/`,
      );
    const config: StepConfig = {
      ...DEFAULT_STEP_CONFIG,
      ...given,
      retries: { ...DEFAULT_STEP_CONFIG.retries, ...given.retries },
    };
    const count = this.#count(`do:${name}`);
    const key = `do:${count}:${name}`;
    for (;;) {
      const r = await this.#step({ op: "do", ref: this.#ref, key, name, config });
      if (r.kind === "cached") return r.value as T;
      if (r.kind === "failed") throw userError(r.error);
      if (r.kind !== "attempt") throw new Error(`unexpected reply ${r.kind}`);
      let outcome: Extract<WorkflowCall, { op: "attempt" }>["outcome"];
      try {
        const value = await withTimeout(
          Promise.resolve().then(() =>
            closure({ step: { name, count }, attempt: r.attempt, config: structuredClone(config) }),
          ),
          durationMs(config.timeout),
        );
        try {
          structuredClone(value);
          outcome = { ok: true, value };
        } catch {
          const error = {
            name: "WorkflowFatalError",
            message: `Value returned from step "${name}" is not serialisable`,
          };
          outcome = { ok: false, error, fatal: true };
        }
      } catch (e) {
        const error =
          e instanceof TimedOut
            ? { name: "WorkflowTimeoutError", message: `Execution timed out after ${e.ms}ms` }
            : errorInfo(e);
        outcome = { ok: false, error, fatal: isNonRetryable(error) };
      }
      const after = await this.#step({ op: "attempt", ref: this.#ref, key, outcome });
      if (after.kind === "ok" && outcome.ok) return outcome.value as T;
      if (after.kind === "failed") throw userError(after.error);
    }
  }

  async sleep(name: string, duration: number | string): Promise<void> {
    const ms = typeof duration === "string" ? durationMs(duration) : Number(duration);
    const count = this.#count(`sleep:${name}:${ms}`);
    await this.#sleep(`sleep:${count}:${ms}:${name}`, String(name), Date.now() + ms);
  }

  /**
   * NOTE: keyed by the time to sleep until, not (as workerd's local engine
   * does) by how far away it was when first called, so a replay after a
   * restart finds the same sleep instead of starting a new one.
   */
  async sleepUntil(name: string, timestamp: Date | number): Promise<void> {
    const until = timestamp instanceof Date ? timestamp.valueOf() : Number(timestamp);
    const count = this.#count(`until:${name}:${until}`);
    const key = `until:${count}:${until}:${name}`;
    const known = (await this.#call({
      op: "sleep",
      ref: this.#ref,
      key,
      name: String(name),
      until: -1,
    })) as StepReply;
    if (known.kind === "abort") throw new Error(known.reason);
    if (known.kind === "ok") return;
    if (until < Date.now()) throw new Error("You can't sleep until a time in the past, time-traveler");
    await this.#sleep(key, String(name), until);
  }

  async #sleep(key: string, name: string, until: number): Promise<void> {
    await this.#step({ op: "sleep", ref: this.#ref, key, name, until });
  }

  async waitForEvent<T = unknown>(
    name: string,
    options: { type: string; timeout?: number | string },
  ): Promise<{ payload: T; type: string; timestamp: Date }> {
    const timeout = options?.timeout || DEFAULT_EVENT_TIMEOUT;
    const count = this.#count(`wait:${name}`);
    const r = await this.#step({
      op: "wait",
      ref: this.#ref,
      key: `wait:${count}:${name}`,
      name: String(name),
      type: String(options?.type),
      timeoutMs: durationMs(timeout),
    });
    if (r.kind === "failed") throw userError(r.error);
    if (r.kind !== "event") throw new Error(`unexpected reply ${r.kind}`);
    return r.event as { payload: T; type: string; timestamp: Date };
  }
}

/** Runs one run of an instance: `new Class(ctx, env).run(event, step)`, its output or error as the engine records it. */
export async function runWorkflow(
  module: Record<string, unknown>,
  env: Record<string, unknown>,
  ctx: unknown,
  spec: WorkflowRunSpec,
  call: WorkflowCaller,
): Promise<WorkflowRunResult> {
  try {
    const Ctor = module[spec.className];
    if (typeof Ctor !== "function")
      throw new TypeError(`The project's main module does not export a class named ${spec.className}.`);
    const instance = new (Ctor as new (c: unknown, e: unknown) => { run?: unknown })(ctx, env);
    if (typeof instance.run !== "function") throw new TypeError(`${spec.className} has no run() method.`);
    const output = await (instance.run as (e: unknown, s: WorkflowStep) => unknown).call(
      instance,
      spec.event,
      new WorkflowStep(spec.ref, call),
    );
    try {
      structuredClone(output);
    } catch {
      return {
        ok: false,
        error: {
          name: "WorkflowFatalError",
          message: "The output of the Workflow instance is not serialisable",
        },
      };
    }
    return { ok: true, output };
  } catch (e) {
    return { ok: false, error: errorInfo(e) };
  }
}
