export interface Env {
  EVENTS: AnalyticsEngineDataset;
}

function settle(call: () => unknown) {
  try {
    const v = call();
    return { ok: v === undefined ? "undefined" : v };
  } catch (error) {
    return error instanceof Error
      ? { error: { name: error.name, message: error.message } }
      : { error: String(error) };
  }
}

export default {
  async fetch(_request: Request, env: Env): Promise<Response> {
    return Response.json({
      full: settle(() =>
        env.EVENTS.writeDataPoint({ blobs: ["a", "b"], doubles: [1, 2.5], indexes: ["user-1"] }),
      ),
      empty: settle(() => env.EVENTS.writeDataPoint({})),
      none: settle(() => env.EVENTS.writeDataPoint()),
    });
  },
};
