import { DurableObject } from "cloudflare:workers";

export interface Env {
  CHAT: DurableObjectNamespace<ChatRoom>;
}

class ValidationError extends Error {
  override name = "ValidationError";
  constructor(
    message: string,
    readonly field: string,
  ) {
    super(message);
  }
}

class Point {
  constructor(
    readonly x: number,
    readonly y: number,
  ) {}
}

type Message = { from: string; text: string; sentAt: Date; tags: Set<string> };

function describe(value: unknown): unknown {
  if (value === undefined) return { type: "undefined" };
  if (value === null || typeof value === "boolean" || typeof value === "string") return value;
  if (typeof value === "number")
    return Number.isFinite(value) ? value : { type: "number", text: String(value) };
  if (typeof value === "bigint") return { type: "bigint", text: value.toString() };
  if (typeof value === "function") return { type: "function" };
  if (value instanceof Map)
    return { type: "Map", entries: [...value].map(([k, v]) => [describe(k), describe(v)]) };
  if (value instanceof Set) return { type: "Set", values: [...value].map(describe) };
  if (value instanceof Date) return { type: "Date", iso: value.toISOString() };
  if (value instanceof Uint8Array) return { type: "Uint8Array", bytes: [...value] };
  if (value instanceof Error) return { type: "Error", name: value.name, message: value.message };
  if (Array.isArray(value)) return value.map(describe);
  if (typeof value === "object")
    return { type: "Object", entries: Object.entries(value).map(([k, v]) => [k, describe(v)]) };
  return { type: typeof value };
}

function errorInfo(error: unknown) {
  if (!(error instanceof Error)) return { thrown: describe(error) };
  // Own enumerable properties, less the stack (it holds file paths).
  const extra = Object.fromEntries(
    Object.entries(error)
      .filter(([k]) => k !== "stack")
      .map(([k, v]) => [k, describe(v)]),
  );
  return {
    name: error.name,
    message: error.message,
    isError: true,
    isTypeError: error instanceof TypeError,
    isRangeError: error instanceof RangeError,
    cause: describe(error.cause),
    extra,
  };
}

export class ChatRoom extends DurableObject<Env> {
  publicField = "not exposed over RPC";
  #secret = "private";
  messages: Message[] = [];

  async post(from: string, text: string, sentAt: Date, tags: Set<string>): Promise<number> {
    if (text.trim() === "") throw new ValidationError("text must not be empty", "text");
    this.messages.push({ from, text, sentAt, tags });
    await this.ctx.storage.put(`msg:${String(this.messages.length).padStart(4, "0")}`, {
      from,
      text,
      sentAt,
      tags,
    });
    return this.messages.length;
  }

  history(limit: number): Message[] {
    return this.messages.slice(-limit);
  }

  // Synchronous methods are still async to the caller.
  count(): number {
    return this.messages.length;
  }

  echo(value: unknown): unknown {
    return value;
  }

  nothing(): void {}

  get topic(): string {
    return "general";
  }

  describeSelf() {
    return { id: this.ctx.id.toString(), name: this.ctx.id.name ?? null, secretLength: this.#secret.length };
  }

  throwError(kind: string): never {
    switch (kind) {
      case "type":
        throw new TypeError("bad type");
      case "range":
        throw new RangeError("out of range");
      case "custom":
        throw new ValidationError("invalid field", "email");
      case "string":
        throw "a plain string";
      case "props": {
        const error = new Error("with props") as Error & { code: string; status: number };
        error.code = "E_CODE";
        error.status = 418;
        throw error;
      }
      case "cause":
        throw new Error("outer", { cause: new Error("inner") });
      default:
        throw new Error(`plain error: ${kind}`);
    }
  }

  async rejectLater(): Promise<never> {
    await this.ctx.storage.get("anything");
    throw new SyntaxError("rejected after await");
  }

  returnClassInstance(): Point {
    return new Point(1, 2);
  }

  override async fetch(request: Request): Promise<Response> {
    const url = new URL(request.url);
    return new Response(
      `fetch ${request.method} ${url.pathname} ${request.headers.get("x-room") ?? "-"} ${await request.text()}`,
      {
        status: 201,
        headers: { "x-count": String(this.messages.length) },
      },
    );
  }
}

async function settle(call: () => Promise<unknown>): Promise<unknown> {
  try {
    return { ok: describe(await call()) };
  } catch (error) {
    return { error: errorInfo(error) };
  }
}

export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    const url = new URL(request.url);
    const room = url.searchParams.get("room") ?? "lobby";
    const stub = env.CHAT.getByName(room);
    switch (url.pathname) {
      case "/post": {
        const { from, text, tags } = (await request.json()) as { from: string; text: string; tags: string[] };
        const sentAt = new Date(Date.UTC(2025, 0, 1, 0, 0, Number(url.searchParams.get("second") ?? "0")));
        return Response.json(await settle(() => stub.post(from, text, sentAt, new Set(tags))));
      }
      case "/history":
        return Response.json(await settle(() => stub.history(Number(url.searchParams.get("limit") ?? "10"))));
      case "/count":
        return Response.json(await settle(() => stub.count()));
      case "/echo":
        return Response.json({
          map: await settle(() =>
            stub.echo(
              new Map<unknown, unknown>([
                ["a", 1],
                [2, [3]],
              ]),
            ),
          ),
          date: await settle(() => stub.echo(new Date(0))),
          nested: await settle(() => stub.echo({ a: [1, { b: null, u: undefined }], s: new Set([1]) })),
          bytes: await settle(() => stub.echo(new Uint8Array([1, 2, 3]))),
          bigint: await settle(() => stub.echo(2n ** 70n)),
          nan: await settle(() => stub.echo(NaN)),
          error: await settle(() => stub.echo(new RangeError("as a value"))),
          nothing: await settle(() => stub.nothing()),
        });
      case "/errors": {
        const out: Record<string, unknown> = {};
        for (const kind of ["plain", "type", "range", "custom", "string", "props", "cause"]) {
          out[kind] = await settle(() => stub.throwError(kind));
        }
        out.rejectLater = await settle(() => stub.rejectLater());
        // An application error does not break the stub.
        out.afterErrors = await settle(() => stub.count());
        return Response.json(out);
      }
      case "/surface": {
        const loose = stub as unknown as Record<string, () => Promise<unknown>>;
        return Response.json({
          missingMethod: await settle(() => loose.noSuchMethod!()),
          publicField: await settle(
            async () => await (stub as unknown as { publicField: Promise<unknown> }).publicField,
          ),
          getter: await settle(async () => await (stub as unknown as { topic: Promise<unknown> }).topic),
          privateMethod: await settle(() => loose["#secret"]!()),
          returnClassInstance: await settle(() => stub.returnClassInstance()),
          passClassInstance: await settle(() => stub.echo(new Point(3, 4))),
          passSymbol: await settle(() => stub.echo(Symbol("nope"))),
        });
      }
      case "/self":
        return Response.json({
          self: await stub.describeSelf(),
          expectedId: env.CHAT.idFromName(room).toString(),
          stubId: stub.id.toString(),
          stubIdName: stub.id.name ?? null,
          stubName: (stub as unknown as { name?: string }).name ?? null,
          viaGetName: (await env.CHAT.get(env.CHAT.idFromName(room)).describeSelf()).name,
        });
      case "/fetch": {
        const response = await stub.fetch("https://room.example/hello/world?x=1", {
          method: "PUT",
          headers: { "x-room": room },
          body: "payload",
        });
        return Response.json({
          status: response.status,
          count: response.headers.get("x-count"),
          text: await response.text(),
        });
      }
      default:
        return Response.json({ error: "not found" }, { status: 404 });
    }
  },
};
