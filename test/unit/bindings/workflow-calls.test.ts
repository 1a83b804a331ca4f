import { describe, expect, it } from "vitest";
import {
  durationMs,
  errorInfo,
  isValidInstanceId,
  isValidStepConfig,
  retryDelayMs,
  userError,
} from "../../../runtime/bindings/workflow-calls.ts";

describe("Workflows' shared rules (as workerd's local engine has them)", () => {
  it("reads durations as numbers of ms or '<n> <unit>[s]'", () => {
    expect(durationMs(250)).toBe(250);
    expect(durationMs("250")).toBe(250);
    expect(durationMs("1 second")).toBe(1000);
    expect(durationMs("5 minutes")).toBe(300_000);
    expect(durationMs("2 hours")).toBe(7_200_000);
    expect(durationMs("1 day")).toBe(86_400_000);
    expect(durationMs("10 millis")).toBe(10);
    expect(durationMs("soon")).toBeNaN();
  });

  it("checks instance ids and step configs", () => {
    expect(isValidInstanceId("order-1_a")).toBe(true);
    expect(isValidInstanceId("-x")).toBe(false);
    expect(isValidInstanceId("a b")).toBe(false);
    expect(isValidInstanceId("a".repeat(101))).toBe(false);
    expect(isValidStepConfig({})).toBe(true);
    expect(
      isValidStepConfig({ retries: { limit: 2, delay: "1 second", backoff: "linear" }, timeout: 50 }),
    ).toBe(true);
    expect(isValidStepConfig({ retries: { limit: -1, delay: 0 } })).toBe(false);
    expect(isValidStepConfig({ retries: { limit: 1 } })).toBe(false);
    expect(isValidStepConfig({ timeout: 0 })).toBe(false);
    expect(isValidStepConfig({ timeout: "whenever" })).toBe(false);
    expect(isValidStepConfig({ retry: {} })).toBe(false);
  });

  it("backs off constant, linear and exponential", () => {
    const r = (backoff: "constant" | "linear" | "exponential") =>
      [1, 2, 3].map((n) => retryDelayMs({ limit: 5, delay: 100, backoff }, n));
    expect(r("constant")).toEqual([100, 100, 100]);
    expect(r("linear")).toEqual([100, 200, 300]);
    expect(r("exponential")).toEqual([100, 200, 400]);
  });

  it("turns errors into what user code sees after workerd's RPC", () => {
    expect(userError({ name: "TypeError", message: "x" })).toBeInstanceOf(TypeError);
    const e = userError({ name: "WorkflowTimeoutError", message: "Execution timed out after 5ms" });
    expect([e.name, e.message]).toEqual(["Error", "WorkflowTimeoutError: Execution timed out after 5ms"]);
    class Custom extends Error {
      override name = "Custom";
    }
    expect(errorInfo(new Custom("boom"))).toEqual({ name: "Error", message: "Custom: boom" });
    expect(errorInfo(new RangeError("r"))).toEqual({ name: "RangeError", message: "r" });
  });
});
