import { unavailableClass } from "./unavailable.ts";

/**
 * Terrarium's `cloudflare:ai`: the binding classes load and can be named
 * (instanceof, extends), and constructing one says Workers AI is not
 * available; the error classes are real, so code that catches them works.
 */
const MODULE = "cloudflare:ai";

export const Ai = unavailableClass("Ai", MODULE);
export const AiGateway = unavailableClass("AiGateway", MODULE);
export const AutoRAG = unavailableClass("AutoRAG", MODULE);
export const ToMarkdownService = unavailableClass("ToMarkdownService", MODULE);

function named(name: string): new (message?: string) => Error {
  const classes = {
    [name]: class extends Error {
      constructor(message?: string) {
        super(message);
        this.name = name;
      }
    },
  };
  return classes[name]!;
}

export const AiGatewayInternalError = named("AiGatewayInternalError");
export const AiGatewayLogNotFound = named("AiGatewayLogNotFound");
export const AutoRAGInternalError = named("AutoRAGInternalError");
export const AutoRAGNotFoundError = named("AutoRAGNotFoundError");
export const AutoRAGUnauthorizedError = named("AutoRAGUnauthorizedError");
export const InferenceUpstreamError = named("InferenceUpstreamError");
