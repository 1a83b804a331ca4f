import { describe, expect, it } from "vitest";
import {
  MASK,
  MaskedSecretError,
  maskDeep,
  maskedApi,
  maskText,
  secretValues,
} from "../../../runtime/api/secrets.ts";
import type { ControlApi } from "../../../runtime/api/contract.ts";
import { isSecretsFile, maskDotenv } from "../../../renderer/src/components/secrets.ts";

describe("masking secret values", () => {
  const project = {
    devVars: { files: [], values: { TOKEN: "tok-123456", LONGER: "tok-123456-extra", SHORT: "on" } },
    workers: [{ devVars: { files: [], values: { OTHER: "back-secret" } } }],
  } as unknown as Parameters<typeof secretValues>[0];

  it("takes every Worker's values, longest first, and leaves values too short to mask", () => {
    expect(secretValues(project)).toEqual(["tok-123456-extra", "back-secret", "tok-123456"]);
  });

  it("masks a value inside another whole, and every occurrence", () => {
    const s = secretValues(project);
    expect(maskText("a tok-123456-extra b tok-123456 c tok-123456", s)).toBe(`a ${MASK} b ${MASK} c ${MASK}`);
    expect(maskText("on and on", s)).toBe("on and on");
  });

  it("walks arrays and plain objects (keys too), and hands back what holds no secret unchanged", () => {
    const s = secretValues(project);
    const clean = { a: [1, "x", { b: null }], n: 3 };
    expect(maskDeep(clean, s)).toBe(clean);
    const first = { body: "x back-secret" };
    const dirty = { list: [first, "y"], ["k-back-secret"]: true, n: 1 };
    expect(maskDeep(dirty, s)).toEqual({ list: [{ body: `x ${MASK}` }, "y"], [`k-${MASK}`]: true, n: 1 });
    expect(first.body).toBe("x back-secret");
    const bytes = new Uint8Array([1, 2]);
    expect(maskDeep({ bytes }, s).bytes).toBe(bytes);
  });
});

describe("writes of what was shown masked", () => {
  // The parts of the API the test calls; each records what reached the engine.
  const reached: string[] = [];
  const inner = {
    kvGet: async () => ({ value: "token=tok-123456" }),
    kvPut: async (spec: { value: string }) => void reached.push(spec.value),
    writeFile: async (file: { text: string }) => void reached.push(file.text),
    readFile: async () => ({ text: "TOKEN=tok-123456" }),
  } as unknown as ControlApi;
  const api = maskedApi(inner, () => ["tok-123456"]) as unknown as Record<
    string,
    (...a: unknown[]) => Promise<unknown>
  >;

  it("refuses a KV value or a file that holds the mask, so the mask never replaces a secret", async () => {
    const shown = (await api.kvGet!({})) as { value: string };
    expect(shown.value).toBe(`token=${MASK}`);
    await expect(api.kvPut!({ binding: "KV", key: "k", value: shown.value })).rejects.toBeInstanceOf(
      MaskedSecretError,
    );
    await expect(api.writeFile!({ path: ".dev.vars", text: `TOKEN=${MASK}` })).rejects.toThrow(
      /writeFile refused: it holds/,
    );
    expect(reached).toEqual([]);
  });

  it("lets writes without the mask through, and keeps the project's files in clear for the editor", async () => {
    await api.kvPut!({ binding: "KV", key: "k", value: "token=tok-123456" });
    expect(reached).toEqual(["token=tok-123456"]);
    expect(await api.readFile!(".dev.vars")).toEqual({ text: "TOKEN=tok-123456" });
  });
});

describe("the editor's secrets files", () => {
  it("knows .dev.vars, .dev.vars.<env> and .env files, wherever they are", () => {
    for (const p of [
      ".dev.vars",
      ".dev.vars.staging",
      "back/.dev.vars",
      ".env",
      ".env.local",
      "a/.env.production",
    ])
      expect(isSecretsFile(p), p).toBe(true);
    for (const p of ["dev.vars", "src/env.ts", ".envrc.md/x.ts", "wrangler.jsonc", ".environment/x"])
      expect(isSecretsFile(p), p).toBe(false);
  });

  it("masks every value, keeping names, comments, blank lines and empty values", () => {
    const text = '# keys\nexport API_KEY = "abc"\n\nEMPTY=\nMULTI="line one\nline two"\nAFTER=x\n';
    expect(maskDotenv(text)).toBe(
      `# keys\nexport API_KEY = ${MASK}\n\nEMPTY=\nMULTI=${MASK}\nAFTER=${MASK}\n`,
    );
  });
});
