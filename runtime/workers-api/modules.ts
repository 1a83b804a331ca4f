/**
 * The `cloudflare:*` modules workerd offers to user code, each resolved by
 * the bundler to Terrarium's implementation in this folder. Every one loads;
 * what Terrarium cannot simulate throws when called (docs/compatibility.md
 * says which).
 */
export const CLOUDFLARE_MODULES = {
  "cloudflare:workers": "cloudflare-workers.ts",
  "cloudflare:email": "cloudflare-email.ts",
  "cloudflare:sockets": "cloudflare-sockets.ts",
  "cloudflare:workflows": "cloudflare-workflows.ts",
  "cloudflare:ai": "cloudflare-ai.ts",
  "cloudflare:br": "cloudflare-br.ts",
  "cloudflare:node": "cloudflare-node.ts",
  "cloudflare:pipelines": "cloudflare-pipelines.ts",
  "cloudflare:vectorize": "cloudflare-vectorize.ts",
} as const satisfies Record<`cloudflare:${string}`, string>;

export type CloudflareModuleName = keyof typeof CLOUDFLARE_MODULES;

export function isCloudflareModule(specifier: string): specifier is CloudflareModuleName {
  return Object.hasOwn(CLOUDFLARE_MODULES, specifier);
}
