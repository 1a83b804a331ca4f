/**
 * Bindings that only run on Cloudflare's network (wrangler dev too reaches
 * them remotely): Workers AI, Vectorize, Browser Rendering, mTLS
 * certificates, dispatch namespaces. A project that declares one still
 * opens; the binding exists in `env`, and every use of it fails with an
 * error naming the binding and what to do, instead of the whole project
 * being refused at load.
 */
export const REMOTE_ONLY_KINDS = {
  ai: "Workers AI",
  vectorize: "Vectorize",
  browser: "Browser Rendering",
  mtls_certificates: "an mTLS certificate",
  dispatch_namespaces: "a dispatch namespace (Workers for Platforms)",
} as const;

export type RemoteOnlyKind = keyof typeof REMOTE_ONLY_KINDS;

export interface RemoteOnlySpec {
  binding: string;
  kind: RemoteOnlyKind;
}

export function remoteOnlyMessage(spec: RemoteOnlySpec, member: string): string {
  return (
    `env.${spec.binding}.${member}(): ${spec.binding} is ${REMOTE_ONLY_KINDS[spec.kind]}, which runs only on ` +
    `Cloudflare's network; Terrarium cannot run it locally. Deploy the project (terrarium export), or keep ` +
    `these calls behind a check so the rest of the project runs here.`
  );
}

/** The stand-in `env.<binding>`: any method called on it throws (asynchronously, as the real ones fail). */
export function remoteOnlyBinding(spec: RemoteOnlySpec): object {
  return new Proxy(
    {},
    {
      get(_target, prop) {
        if (typeof prop === "symbol" || prop === "then" || prop === "toJSON") return undefined;
        return () => Promise.reject(new Error(remoteOnlyMessage(spec, prop)));
      },
    },
  );
}
