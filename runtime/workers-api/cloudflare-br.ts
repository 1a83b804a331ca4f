import { unavailableClass } from "./unavailable.ts";

/** Terrarium's `cloudflare:br` (Browser Rendering): loads; the binding class throws when built. */
export const BrowserRendering = unavailableClass("BrowserRendering", "cloudflare:br");
