import { createHash, createHmac, randomBytes } from "node:crypto";

/**
 * Durable Object ids exactly as workerd derives them locally (and so as
 * wrangler dev shows them): a namespace key is SHA-256 of
 * "<worker name>-<ClassName>"; an id is 16 bytes that name the object
 * (HMAC of the name, or random for unique ids) followed by 16 bytes of
 * HMAC over those first 16 bytes, which lets `idFromString` reject an id
 * that belongs to another namespace.
 */
export interface NamespaceKey {
  readonly key: Buffer;
}

export function namespaceKey(workerName: string, className: string): NamespaceKey {
  return { key: createHash("sha256").update(`${workerName}-${className}`).digest() };
}

function withMac(ns: NamespaceKey, head: Buffer): string {
  const mac = createHmac("sha256", ns.key).update(head).digest().subarray(0, 16);
  return Buffer.concat([head, mac]).toString("hex");
}

export function idFromName(ns: NamespaceKey, name: string): string {
  const head = createHmac("sha256", ns.key).update(name).digest().subarray(0, 16);
  return withMac(ns, head);
}

/**
 * The id an object of another namespace has in `ns` (its class was
 * renamed): the same first half, the second half re-derived. Named objects
 * get `idFromName` instead, so their names keep finding them.
 */
export function rekeyId(ns: NamespaceKey, id: string): string {
  return withMac(ns, Buffer.from(id.slice(0, 32), "hex"));
}

export function newUniqueId(ns: NamespaceKey): string {
  return withMac(ns, randomBytes(16));
}

export class InvalidIdError extends TypeError {
  override name = "TypeError";
}

/** Returns the canonical lower-case id, or throws as workerd does. */
export function idFromString(ns: NamespaceKey, id: string): string {
  if (!/^[0-9a-fA-F]{64}$/.test(id)) {
    throw new InvalidIdError("Invalid Durable Object ID: must be 64 hex digits");
  }
  const lower = id.toLowerCase();
  const expected = withMac(ns, Buffer.from(lower.slice(0, 32), "hex"));
  if (expected !== lower) {
    throw new InvalidIdError("Durable Object ID is not valid for this namespace.");
  }
  return lower;
}
