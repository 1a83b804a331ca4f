import { describe, expect, it } from "vitest";
import { MASK, maskDeep, maskText, secretValues } from "../../../runtime/api/secrets.ts";
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
