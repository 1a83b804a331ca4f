interface VersionMetadata {
  id: string;
  tag: string;
  timestamp: string;
}

export interface Env {
  CF_VERSION_METADATA: VersionMetadata;
}

export default {
  async fetch(_request: Request, env: Env): Promise<Response> {
    const v = env.CF_VERSION_METADATA;
    return Response.json({
      keys: Object.keys(v).sort(),
      id: v.id,
      idIsUuid: /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/.test(v.id),
      tag: v.tag,
      timestampIsIso: new Date(v.timestamp).toISOString() === v.timestamp,
      frozen: Object.isFrozen(v),
    });
  },
};
