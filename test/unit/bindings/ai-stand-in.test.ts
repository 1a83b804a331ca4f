import { describe, expect, it } from "vitest";
import { AiStandIn, embeddingDims } from "../../../runtime/bindings/ai-stand-in.ts";

const ai = new AiStandIn({ binding: "AI", latencyMs: null });

async function text(stream: ReadableStream<Uint8Array>): Promise<string> {
  return new Response(stream).text();
}

describe("the Workers AI stand-in", () => {
  it("answers text generation with { response, tool_calls, usage }, the same for the same input", async () => {
    const a = (await ai.run("@cf/meta/llama-3.1-8b-instruct", { prompt: "Hi" })) as {
      response: string;
      usage: { prompt_tokens: number; completion_tokens: number; total_tokens: number };
    };
    expect(a).toMatchObject({ tool_calls: [] });
    expect(a.response).toMatch(/^\[stand-in\] \w+/);
    expect(a.usage.total_tokens).toBe(a.usage.prompt_tokens + a.usage.completion_tokens);
    expect(await ai.run("@cf/meta/llama-3.1-8b-instruct", { prompt: "Hi" })).toEqual(a);
    const other = (await ai.run("@cf/meta/llama-3.1-8b-instruct", { prompt: "Bye" })) as { response: string };
    expect(other.response).not.toBe(a.response);
    const chat = (await ai.run("@cf/mistral/mistral-7b-instruct-v0.1", {
      messages: [{ role: "user", content: "Hi" }],
      max_tokens: 5,
    })) as { response: string };
    expect(chat.response.split(" ")).toHaveLength(5);
  });

  it("streams the same reply as server-sent events ending in [DONE]", async () => {
    const whole = (await ai.run("@cf/meta/llama-3.1-8b-instruct", { prompt: "Hi" })) as { response: string };
    const stream = (await ai.run("@cf/meta/llama-3.1-8b-instruct", {
      prompt: "Hi",
      stream: true,
    })) as ReadableStream<Uint8Array>;
    const events = (await text(stream)).split("\n\n").filter(Boolean);
    expect(events.at(-1)).toBe("data: [DONE]");
    const parts = events
      .slice(0, -1)
      .map((e) => JSON.parse(e.replace(/^data: /, "")) as { response: string });
    expect(parts.map((p) => p.response).join("")).toBe(whole.response);
    expect(parts.at(-1)).toMatchObject({ response: "", usage: { completion_tokens: parts.length - 1 } });
  });

  it("answers bge embeddings with { shape, data, pooling }: unit vectors of the model's size", async () => {
    const r = (await ai.run("@cf/baai/bge-small-en-v1.5", { text: ["a", "b"] })) as {
      shape: number[];
      data: number[][];
      pooling: string;
    };
    expect(r.shape).toEqual([2, 384]);
    expect(r.pooling).toBe("mean");
    expect(r.data).toHaveLength(2);
    for (const v of r.data) {
      expect(v).toHaveLength(384);
      expect(Math.abs(Math.hypot(...v) - 1)).toBeLessThan(1e-3);
    }
    expect(r.data[0]).not.toEqual(r.data[1]);
    const one = (await ai.run("@cf/baai/bge-small-en-v1.5", { text: "a" })) as {
      shape: number[];
      data: number[][];
    };
    expect(one.shape).toEqual([1, 384]);
    expect(one.data[0]).toEqual(r.data[0]);
    expect([embeddingDims("@cf/baai/bge-base-en-v1.5"), embeddingDims("@cf/baai/bge-large-en-v1.5")]).toEqual(
      [768, 1024],
    );
    expect(embeddingDims("@cf/baai/bge-m3")).toBe(1024);
    expect(embeddingDims("@cf/meta/llama-3.1-8b-instruct")).toBeNull();
  });

  it("says what it does for any other call, and names the binding", async () => {
    await expect(ai.run("@cf/microsoft/resnet-50", { image: [1, 2, 3] })).rejects.toThrow(
      'env.AI.run("@cf/microsoft/resnet-50"): Terrarium\'s Workers AI stand-in does text generation',
    );
    await expect(ai.run(42, {})).rejects.toThrow(TypeError);
    await expect(ai.run("@cf/baai/bge-base-en-v1.5", { prompt: "x" })).rejects.toThrow(
      "{ text: string | string[] }",
    );
    await expect((ai as unknown as { gateway(): Promise<unknown> }).gateway()).rejects.toThrow(
      "env.AI.gateway(): AI is Workers AI, which runs only on Cloudflare's network",
    );
  });
});
