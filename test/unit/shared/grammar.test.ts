import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadProject } from "../../../runtime/config/project.ts";
import { parseLoadProfile } from "../../../runtime/config/terrarium.ts";
import {
  compileTemplate,
  parseDuration,
  parseKeySpec,
  parseRange,
  parseThreshold,
  renderTemplate,
  thresholdHolds,
} from "../../../runtime/shared/grammar.ts";
import { planLoad } from "../../../runtime/load/profile.ts";

describe("load profile languages", () => {
  it("reads durations with units, bare numbers as ms", () => {
    expect(parseDuration("250ms")).toBe(250);
    expect(parseDuration("10s")).toBe(10_000);
    expect(parseDuration("1.5m")).toBe(90_000);
    expect(parseDuration("2h")).toBe(7_200_000);
    expect(parseDuration("40")).toBe(40);
    expect(parseDuration(75)).toBe(75);
    expect(() => parseDuration("ten seconds")).toThrow(/not a duration/);
    expect(() => parseDuration("-1s")).toThrow(/not a duration/);
    expect(parseRange("50ms..150ms")).toEqual({ min: 50, max: 150 });
    expect(parseRange("1s")).toEqual({ min: 1000, max: 1000 });
    expect(() => parseRange("2s..1s")).toThrow(/ends before it starts/);
  });

  it("reads key distributions", () => {
    expect(parseKeySpec("uniform:100")).toEqual({ kind: "uniform", k: 100 });
    expect(parseKeySpec("zipf:1000")).toEqual({ kind: "zipf", k: 1000, s: 1 });
    expect(parseKeySpec("zipf:50:1.3")).toEqual({ kind: "zipf", k: 50, s: 1.3 });
    expect(parseKeySpec("seq")).toEqual({ kind: "seq" });
    expect(() => parseKeySpec("uniform:0")).toThrow(/K must be a whole number/);
    expect(() => parseKeySpec("zipf:10:0")).toThrow(/exponent/);
    expect(() => parseKeySpec("normal:10")).toThrow(/uniform:K, zipf:K\[:s\] or seq/);
  });

  it("reads thresholds in ms, seconds, percent and counts", () => {
    expect(parseThreshold("p99<200")).toMatchObject({ metric: "p99", op: "<", value: 200, percent: false });
    expect(parseThreshold("p99.9 <= 1s")).toMatchObject({ metric: "p99.9", op: "<=", value: 1000 });
    expect(parseThreshold("errors<1%")).toMatchObject({ metric: "errors", value: 0.01, percent: true });
    expect(parseThreshold("errors<10")).toMatchObject({ metric: "errors", value: 10, percent: false });
    expect(parseThreshold("rps>=450")).toMatchObject({ metric: "rps", op: ">=", value: 450 });
    expect(() => parseThreshold("p99<5%")).toThrow(/only errors take a percentage/);
    expect(() => parseThreshold("rps>4s")).toThrow(/takes no time unit/);
    expect(() => parseThreshold("p42<1")).toThrow(/not a threshold/);
    const t = parseThreshold("p99<200");
    expect(thresholdHolds(t, 199.9)).toBe(true);
    expect(thresholdHolds(t, 200)).toBe(false);
  });

  it("fills {name} slots and leaves every other brace alone", () => {
    const t = compileTemplate('{"by": {n}, "who": "{key}"}');
    expect(t.slots).toEqual(["n", "key"]);
    expect(renderTemplate(t, { n: "3", key: "k7" })).toBe('{"by": 3, "who": "k7"}');
    expect(renderTemplate(compileTemplate("/plain"), {})).toBe("/plain");
  });
});

describe("load profiles", () => {
  const base = {
    rate: 100,
    duration: "5s",
    requests: [{ path: "/c/{key}", method: "POST" }],
    keys: "zipf:10",
  };

  it("accepts open and closed profiles and resolves them into a plan", () => {
    const plan = planLoad("p", parseLoadProfile(base), "http://127.0.0.1:1/");
    expect(plan).toMatchObject({ model: "open", durationMs: 5000, url: "http://127.0.0.1:1", client: "api" });
    expect(plan.levels).toEqual([
      { t: 0, level: 100 },
      { t: 5000, level: 100 },
    ]);
    expect(plan.requests[0]).toMatchObject({ method: "POST", keys: { kind: "zipf", k: 10, s: 1 } });
    const closed = planLoad(
      "c",
      parseLoadProfile({
        clients: 5,
        thinkTime: "10ms..30ms",
        stages: [
          { duration: "2s", target: 20 },
          { duration: "1s", target: 0 },
        ],
        requests: [{ path: "/x", body: { a: "{seq}" } }],
      }),
      "http://h:2",
    );
    expect(closed).toMatchObject({
      model: "closed",
      durationMs: 3000,
      thinkMs: { min: 10, max: 30 },
      connections: 20,
    });
    expect(closed.requests[0]).toMatchObject({
      method: "POST",
      body: '{"a":"{seq}"}',
      headers: [["content-type", "application/json"]],
    });
  });

  it("refuses what cannot run, naming the field", () => {
    const bad = (p: object): string => {
      try {
        parseLoadProfile(p);
        return "accepted";
      } catch (e) {
        return (e as Error).message;
      }
    };
    expect(bad({ ...base, keys: undefined })).toMatch(
      /^requests\[0\]\.path: uses \{key\} but no key distribution/,
    );
    expect(bad({ ...base, requests: [{ path: "/{nope}" }] })).toMatch(/unknown variable \{nope\}/);
    expect(bad({ ...base, duration: "soon" })).toMatch(/^duration: "soon" is not a duration/);
    expect(bad({ ...base, rate: undefined })).toMatch(/^rate: the open model needs a rate/);
    expect(bad({ ...base, stages: [{ duration: "1s", target: 5 }] })).toMatch(/either a duration or stages/);
    expect(bad({ ...base, clients: 3 })).toMatch(/^clients: give a rate \(open model\) or clients/);
    expect(bad({ ...base, model: "open", clients: 3 })).toMatch(/^clients: the open model takes a rate/);
    expect(bad({ ...base, thresholds: ["p99 under 5"] })).toMatch(
      /^thresholds\[0\]: "p99 under 5" is not a threshold/,
    );
    expect(bad({ ...base, client: "web" })).toMatch(/a web client needs "web"/);
    expect(bad({ ...base, variables: { key: "seq" } })).toMatch(/\{key\} is built in/);
    expect(bad({ ...base, requests: [] })).toMatch(/^requests:/);
  });

  it("loads loadProfiles and sharding policies from terrarium.json", () => {
    const dir = mkdtempSync(join(tmpdir(), "terrarium-load-"));
    mkdirSync(join(dir, "src"));
    writeFileSync(join(dir, "src", "index.ts"), "export class Counter {}\nexport default { fetch() {} }\n");
    writeFileSync(
      join(dir, "wrangler.jsonc"),
      JSON.stringify({
        name: "x",
        main: "src/index.ts",
        compatibility_date: "2025-04-01",
        durable_objects: { bindings: [{ name: "COUNTER", class_name: "Counter" }] },
      }),
    );
    const write = (cfg: object): void => writeFileSync(join(dir, "terrarium.json"), JSON.stringify(cfg));
    write({
      loadProfiles: { hot: base },
      sharding: { Counter: { key: "{header.x-user}", maxShards: 4, targetInFlight: 8 } },
    });
    const t = loadProject(dir).terrarium;
    expect(t.loadProfiles?.hot?.rate).toBe(100);
    expect(t.sharding?.Counter).toMatchObject({ minShards: 1, maxShards: 4, shardName: "{name}#{shard}" });
    write({ loadProfiles: { hot: { ...base, keys: "zipf:0" } } });
    expect(() => loadProject(dir)).toThrow(/^terrarium\.json: loadProfiles\.hot\.keys: "zipf:0": K must be/);
    write({ sharding: { Nope: { key: "{name}", maxShards: 2, targetInFlight: 1 } } });
    expect(() => loadProject(dir)).toThrow(
      "terrarium.json: sharding.Nope: no Durable Object binding uses class Nope",
    );
    write({ sharding: { Counter: { key: "{name}", minShards: 3, maxShards: 2, targetInFlight: 1 } } });
    expect(() => loadProject(dir)).toThrow(/sharding\.Counter\.minShards: minShards is above maxShards/);
  });
});
