/**
 * A DataCloneError shaped as workerd's: a DOMException (code 25) whose
 * code, name and message are own, enumerable properties.
 */
export function dataCloneError(message: string): DOMException {
  const e = new DOMException(message, "DataCloneError");
  for (const [k, v] of [
    ["code", 25],
    ["name", "DataCloneError"],
    ["message", message],
  ] as const) {
    Object.defineProperty(e, k, { value: v, enumerable: true, configurable: true, writable: true });
  }
  return e;
}

/** "Name: message" for an error, its text for anything else thrown. */
export function errorText(e: unknown): string {
  return e instanceof Error ? `${e.name}: ${e.message}` : String(e);
}

/**
 * An error a request or event fails with, and the HTTP status it answers
 * with when it reaches the router (the Lifecycle Manager's refusals, an
 * unknown binding, an id that is not one of the namespace's).
 */
export class ObjectError extends Error {
  override name = "ObjectError";
  constructor(
    message: string,
    readonly status = 500,
  ) {
    super(message);
  }
}
