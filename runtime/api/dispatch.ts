import type { BridgeError, ControlApi, ControlMethod } from "./contract.ts";
import { callSchemas } from "./contract.ts";

/** A call refused at the bridge: its arguments do not match the contract. */
export class ValidationError extends Error {
  override name = "ValidationError";
}

/**
 * Calls one control method with arguments that came over a bridge, after
 * parsing them with the method's schema. Both the web bridge and Electron
 * main go through here, so nothing unchecked reaches the engine.
 */
export async function dispatch(api: ControlApi, method: ControlMethod, args: unknown[]): Promise<unknown> {
  const schema = callSchemas[method];
  const parsed = schema.safeParse(args);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue?.path.length ? ` at ${issue.path.join(".")}` : "";
    throw new ValidationError(`${method}: ${issue?.message ?? "invalid arguments"}${where}`);
  }
  const fn = api[method] as (...a: unknown[]) => Promise<unknown>;
  return fn.apply(api, parsed.data as unknown[]);
}

/** An error as it crosses a bridge: a name and a message, never a stack. */
export function toBridgeError(e: unknown): BridgeError {
  if (e instanceof Error) return { name: e.name, message: e.message };
  return { name: "Error", message: String(e) };
}
