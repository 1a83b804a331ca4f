/**
 * How the Router spreads keys over a sharded class: FNV-1a (64-bit) of the
 * key's UTF-8 bytes, then jump consistent hashing (Lamping and Veach) onto
 * the current shard count, so adding a shard moves only about 1/n of the
 * keys. Pure and dependency-free: the exported Cloudflare entry embeds the
 * same function, so keys land on the same shards there.
 */
export function fnv1a64(text: string): bigint {
  let h = 0xcbf29ce484222325n;
  for (const byte of new TextEncoder().encode(text)) {
    h ^= BigInt(byte);
    h = (h * 0x100000001b3n) & 0xffffffffffffffffn;
  }
  return h;
}

export function jumpHash(key: bigint, buckets: number): number {
  if (buckets < 1) throw new RangeError("buckets must be at least 1");
  let b = -1;
  let j = 0;
  let k = key;
  while (j < buckets) {
    b = j;
    k = (k * 2862933555777941757n + 1n) & 0xffffffffffffffffn;
    j = Math.floor((b + 1) * (2 ** 31 / Number((k >> 33n) + 1n)));
  }
  return b;
}

/** The object name for a key: shard 0 keeps the base name, so one shard moves nothing. */
export function shardObjectName(base: string, template: string, shard: number): string {
  if (shard === 0) return base;
  return template.replaceAll("{name}", base).replaceAll("{shard}", String(shard));
}

export function shardOf(key: string, shards: number): number {
  return jumpHash(fnv1a64(key), shards);
}
