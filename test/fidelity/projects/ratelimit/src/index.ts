interface RateLimit {
  limit(options: unknown): Promise<{ success: boolean }>;
}

export interface Env {
  LIMITER: RateLimit;
  STRICT: RateLimit;
}

async function settle(call: () => unknown) {
  try {
    return { ok: await call() };
  } catch (error) {
    return error instanceof Error
      ? { error: { name: error.name, message: error.message } }
      : { error: String(error) };
  }
}

/** The calls of one sequence, retried with fresh keys if a window boundary fell inside it. */
async function inOneWindow<T>(period: number, run: (suffix: string) => Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    const window = Math.floor(Date.now() / (period * 1000));
    const result = await run(`-${attempt}`);
    if (Math.floor(Date.now() / (period * 1000)) === window) return result;
  }
}

export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    const url = new URL(request.url);
    switch (url.pathname) {
      case "/keys":
        return Response.json(
          await inOneWindow(60, async (s) => {
            const a = [];
            for (let i = 0; i < 4; i++) a.push((await env.LIMITER.limit({ key: `a${s}` })).success);
            const b = (await env.LIMITER.limit({ key: `b${s}` })).success;
            const own = [];
            for (let i = 0; i < 3; i++)
              own.push((await env.LIMITER.limit({ key: `c${s}`, limit: 2 })).success);
            return { a, b, own };
          }),
        );
      case "/strict":
        return Response.json(
          await inOneWindow(10, async (s) => [
            (await env.STRICT.limit({ key: `x${s}` })).success,
            (await env.STRICT.limit({ key: `x${s}` })).success,
          ]),
        );
      case "/errors":
        return Response.json({
          nothing: await settle(() => env.LIMITER.limit(undefined)),
          extra: await settle(() => env.LIMITER.limit({ key: "k", burst: 2 })),
          numberKey: await settle(() => env.LIMITER.limit({ key: 5 })),
          badLimit: await settle(() => env.LIMITER.limit({ key: "k", limit: "3" })),
          badPeriod: await settle(() => env.LIMITER.limit({ key: "k", period: 30 })),
          emptyKey: await settle(() => env.LIMITER.limit({})),
        });
      default:
        return new Response("not found", { status: 404 });
    }
  },
};
