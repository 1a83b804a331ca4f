/**
 * A local stand-in for Workers AI (`env.AI.run(model, inputs)`), for
 * running an agent project offline. It is NOT a model: it answers with
 * text and vectors of the right shapes, derived from the input alone (the
 * same input gives the same answer, on every machine), so code that calls
 * AI runs end to end. Off unless terrarium.json turns it on:
 *
 *     "ai": { "standIn": true, "latencyMs": [50, 200] }
 *
 * What it answers, by what the call looks like:
 * - text generation (`{ prompt }` or `{ messages }`): `{ response, usage }`,
 *   or with `stream: true` a ReadableStream of server-sent events
 *   (`data: {"response":"..."}` per token, then `data: [DONE]`), as Workers
 *   AI streams;
 * - embeddings (`@cf/baai/bge-*` and other `*embedding*` models, `{ text }`):
 *   `{ shape: [n, dims], data, pooling: "mean" }`, each vector of unit
 *   length, dims as the model's (bge-small 384, bge-base 768, bge-large and
 *   bge-m3 1024).
 * Any other call fails saying what the stand-in does; the binding's other
 * members (gateway(), models(), toMarkdown(), autorag()) fail as a
 * Cloudflare-only binding does.
 */

import { remoteOnlyMessage } from "./remote-only.ts";

export interface AiStandInSpec {
  binding: string;
  /** Added before each answer: ms, or a [min, max] range picked from deterministically. */
  latencyMs: number | [number, number] | null;
}

/** terrarium.json's `ai`. */
export interface AiStandInConfig {
  standIn: boolean;
  latencyMs?: number | [number, number] | undefined;
}

const EMBEDDING_DIMS: [RegExp, number][] = [
  [/bge-small/, 384],
  [/bge-base/, 768],
  [/bge-large/, 1024],
  [/bge-m3/, 1024],
];

/** The vector length of an embeddings model, or null when the model does not embed. */
export function embeddingDims(model: string): number | null {
  if (!/^@cf\/baai\/bge-|embedding/i.test(model)) return null;
  return EMBEDDING_DIMS.find(([re]) => re.test(model))?.[1] ?? 768;
}

const WORDS = (
  "the a local answer stands in for a model here while your project runs offline each word comes from " +
  "a hash of the prompt so the same question always gets the same reply and tests can rely on it " +
  "deploy to cloudflare for real inference from workers ai"
).split(" ");

async function sha256(text: string): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text)));
}

/** `n` deterministic bytes from `seed` (SHA-256 in counter mode). */
async function bytes(seed: string, n: number): Promise<Uint8Array> {
  const out = new Uint8Array(n);
  for (let i = 0, block = 0; i < n; block++) {
    const h = await sha256(`${block}:${seed}`);
    for (let j = 0; j < h.length && i < n; j++, i++) out[i] = h[j]!;
  }
  return out;
}

/** A unit vector of `dims` numbers derived from the model and the text. */
async function embed(model: string, text: string, dims: number): Promise<number[]> {
  const b = await bytes(`${model}\0${text}`, dims * 2);
  const v = Array.from({ length: dims }, (_, i) => ((b[2 * i]! << 8) | b[2 * i + 1]!) / 32767.5 - 1);
  const norm = Math.sqrt(v.reduce((s, x) => s + x * x, 0)) || 1;
  return v.map((x) => Math.round((x / norm) * 1e6) / 1e6);
}

type Message = { role?: unknown; content?: unknown };

/** What a text-generation call asks: its prompt, or its messages joined. */
function promptOf(inputs: Record<string, unknown>): string | null {
  if (typeof inputs.prompt === "string") return inputs.prompt;
  if (Array.isArray(inputs.messages)) {
    return (inputs.messages as Message[])
      .map(
        (m) =>
          `${String(m?.role ?? "")}: ${typeof m?.content === "string" ? m.content : JSON.stringify(m?.content)}`,
      )
      .join("\n");
  }
  return null;
}

/** The stand-in's reply words: as many as `max_tokens` allows (at most 32), chosen by the prompt's hash. */
async function replyWords(model: string, prompt: string, maxTokens: number): Promise<string[]> {
  const count = Math.max(1, Math.min(32, maxTokens));
  const b = await bytes(`${model}\0${prompt}`, count);
  return ["[stand-in]", ...Array.from(b, (x) => WORDS[x % WORDS.length]!)].slice(0, count);
}

const tokens = (text: string): number => Math.max(1, Math.ceil(text.length / 4));

function sse(words: string[], usage: Record<string, number>): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  const events = [
    ...words.map((w, i) => `data: ${JSON.stringify({ response: i === 0 ? w : ` ${w}` })}\n\n`),
    `data: ${JSON.stringify({ response: "", usage })}\n\n`,
    "data: [DONE]\n\n",
  ];
  let i = 0;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (i < events.length) controller.enqueue(encoder.encode(events[i++]!));
      else controller.close();
    },
  });
}

/** `env.<ai binding>` when terrarium.json turns the stand-in on. */
export class AiStandIn {
  readonly #spec: AiStandInSpec;

  constructor(spec: AiStandInSpec) {
    this.#spec = spec;
    const remote = (member: string) => () =>
      Promise.reject(new Error(remoteOnlyMessage({ binding: spec.binding, kind: "ai" }, member)));
    for (const member of ["gateway", "models", "toMarkdown", "autorag"])
      Object.defineProperty(this, member, { value: remote(member), enumerable: false });
  }

  async #wait(seed: string): Promise<void> {
    const l = this.#spec.latencyMs;
    if (l === null) return;
    let ms = typeof l === "number" ? l : l[0];
    if (Array.isArray(l)) ms += ((await bytes(seed, 1))[0]! / 255) * (l[1] - l[0]);
    if (ms > 0) await new Promise((r) => setTimeout(r, ms));
  }

  async run(model: unknown, inputs: unknown, _options?: unknown): Promise<unknown> {
    const b = this.#spec.binding;
    if (typeof model !== "string" || model === "")
      throw new TypeError(
        `env.${b}.run(model, inputs): model must be a model name such as "@cf/meta/llama-3.1-8b-instruct"`,
      );
    if (typeof inputs !== "object" || inputs === null)
      throw new TypeError(`env.${b}.run("${model}", inputs): inputs must be an object`);
    const i = inputs as Record<string, unknown>;
    const dims = embeddingDims(model);
    if (dims !== null) {
      const texts = typeof i.text === "string" ? [i.text] : Array.isArray(i.text) ? i.text.map(String) : null;
      if (!texts)
        throw new TypeError(
          `env.${b}.run("${model}"): an embeddings model takes { text: string | string[] }`,
        );
      await this.#wait(`${model}\0${texts.join("\0")}`);
      return {
        shape: [texts.length, dims],
        data: await Promise.all(texts.map((t) => embed(model, t, dims))),
        pooling: "mean",
      };
    }
    const prompt = promptOf(i);
    if (prompt === null) {
      throw new Error(
        `env.${b}.run("${model}"): Terrarium's Workers AI stand-in does text generation ({ prompt } or { messages }) ` +
          `and embeddings (@cf/baai/bge-*, { text }) only; deploy the project for this model.`,
      );
    }
    await this.#wait(`${model}\0${prompt}`);
    const words = await replyWords(model, prompt, typeof i.max_tokens === "number" ? i.max_tokens : 256);
    const response = words.join(" ");
    const usage = {
      prompt_tokens: tokens(prompt),
      completion_tokens: words.length,
      total_tokens: tokens(prompt) + words.length,
    };
    if (i.stream === true) return sse(words, usage);
    return { response, tool_calls: [], usage };
  }
}
