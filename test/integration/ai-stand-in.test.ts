import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { controlApi } from "../../runtime/api/control-api.ts";
import { Engine } from "../../runtime/engine.ts";
import { enginesPerTest, request, tempProject } from "../helpers/project.ts";

const engines = enginesPerTest();

describe("the Workers AI stand-in", () => {
  it("is off unless terrarium.json turns it on: calls fail naming the binding", async () => {
    const t = await engines.open("ai");
    const off = await request(t.engine, "GET", "/chat?q=hi");
    expect(off.status).toBe(500);
    expect((off.json as { error: string }).error).toContain(
      "env.AI.run(): AI is Workers AI, which runs only on Cloudflare's network",
    );
    expect((await controlApi(t.engine).design()).external).toContainEqual({
      kind: "remote",
      binding: "AI",
      detail: "Workers AI (Cloudflare only)",
    });

    writeFileSync(
      join(t.project.dir, "terrarium.json"),
      JSON.stringify({ ai: { standIn: true, latencyMs: 5 } }),
    );
    const engine = await t.reopen();
    const chat = await request(engine, "GET", "/chat?q=hi");
    expect(chat.status).toBe(200);
    const answer = chat.json as { response: string; usage: { total_tokens: number } };
    expect(answer.response).toMatch(/^\[stand-in\] /);
    expect(await request(engine, "GET", "/chat?q=hi")).toEqual(chat);

    const stream = await request(engine, "GET", "/stream?q=hi");
    expect(stream.body.endsWith("data: [DONE]\n\n")).toBe(true);
    expect(stream.body.startsWith('data: {"response":"[stand-in]"}\n\n')).toBe(true);

    const embed = (await request(engine, "GET", "/embed?q=hi")).json as { shape: number[]; data: number[][] };
    expect(embed.shape).toEqual([2, 768]);
    expect(embed.data.map((v) => v.length)).toEqual([768, 768]);

    // The Design view says plainly that it is a stand-in.
    expect((await controlApi(engine).design()).external).toContainEqual({
      kind: "ai-stand-in",
      binding: "AI",
      detail: "Workers AI: a local stand-in, not a model (deterministic text and embeddings)",
    });

    // Without terrarium.json (the default) it is off again.
    rmSync(join(t.project.dir, "terrarium.json"));
    const plain = await t.reopen();
    expect((await request(plain, "GET", "/embed?q=hi")).status).toBe(500);
  });
});

describe("the Workers AI stand-in in a project of several Workers (-c)", () => {
  it("answers every Worker's ai binding when the project's terrarium.json turns it on", async () => {
    // The agent Worker (the ai fixture) runs as a second Worker behind a front Worker of the project's own.
    const agent = tempProject("ai");
    const front = join(agent.dir, "..", "front");
    mkdirSync(join(front, "src"), { recursive: true });
    writeFileSync(
      join(front, "wrangler.jsonc"),
      JSON.stringify({
        name: "front",
        main: "src/index.ts",
        compatibility_date: "2025-04-01",
        services: [{ binding: "AGENT", service: "ai-agent" }],
      }),
    );
    writeFileSync(
      join(front, "src", "index.ts"),
      "export default { fetch: (request: Request, env: { AGENT: Fetcher }) => env.AGENT.fetch(request) };\n",
    );
    const open = () =>
      Engine.open({
        projectDir: front,
        dataDir: agent.dataDir,
        configs: [join(front, "wrangler.jsonc"), join(agent.dir, "wrangler.jsonc")],
        lifecycle: { poolSize: 1 },
      });
    try {
      // Off (the agent's own terrarium.json is not read: the project's decides, and it has none).
      let engine = await open();
      try {
        const off = await request(engine, "GET", "/chat?q=hi");
        expect(off.status).toBe(500);
        expect((off.json as { error: string }).error).toContain("env.AI.run(): AI is Workers AI");
      } finally {
        await engine.close();
      }
      writeFileSync(join(front, "terrarium.json"), JSON.stringify({ ai: { standIn: true } }));
      engine = await open();
      try {
        const chat = await request(engine, "GET", "/chat?q=hi");
        expect(chat.status).toBe(200);
        expect((chat.json as { response: string }).response).toMatch(/^\[stand-in\] /);
        const embed = (await request(engine, "GET", "/embed?q=hi")).json as { shape: number[] };
        expect(embed.shape).toEqual([2, 768]);
      } finally {
        await engine.close();
      }
    } finally {
      agent.cleanup();
    }
  });
});
