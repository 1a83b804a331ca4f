/**
 * The AIDevOS system: the entry Worker in front of the eight object kinds of
 * the "Durable Objects as microservices" design. It authenticates requests
 * (session tokens or API keys) and passes them to the object that owns the
 * data; the objects talk to each other by RPC and through the Event Bus
 * (terrarium.json: user.created -> Analytics and Notification, ...).
 */
import { Authentication, emailOfToken, type AuthResult } from "./authentication";
import { UserProfiles } from "./user-management";
import { DataStore, fileKey } from "./data-storage";
import { ApiGateway, findApiKey, issueApiKey, listApiKeys, type GatewayAnswer } from "./api-gateway";
import { UiRenderer } from "./ui-renderer";
import { Analytics } from "./analytics";
import { Notifications } from "./notification";
import { Custom } from "./custom";

export { Authentication, UserProfiles, DataStore, ApiGateway, UiRenderer, Analytics, Notifications, Custom };

export interface Env {
  AUTH: DurableObjectNamespace<Authentication>;
  USERS: DurableObjectNamespace<UserProfiles>;
  DATA: DurableObjectNamespace<DataStore>;
  GATEWAY: DurableObjectNamespace<ApiGateway>;
  UI: DurableObjectNamespace<UiRenderer>;
  ANALYTICS: DurableObjectNamespace<Analytics>;
  NOTIFICATIONS: DurableObjectNamespace<Notifications>;
  CUSTOM: DurableObjectNamespace<Custom>;
  DB: D1Database;
  FILES: R2Bucket;
  EVENTS: { publish(topic: string, data: unknown): Promise<{ id: number }> };
  THIRD_PARTY_URL: string;
}

const HELP = `AIDevOS sample: the "Durable Objects as microservices" system.

POST /auth/signup {email, password, name}   -> {userId, token}
POST /auth/login  {email, password}         -> {userId, token}
POST /auth/logout                           (Authorization: Bearer <token>)
GET  /me            PATCH /me {name?, theme?, notifications?}
GET  /records       POST /records {title, body}      DELETE /records/<id>
GET  /files         PUT /files/<name> (body)         GET /files/<name> (Range works)
GET  /app           the user's page, rendered on the server (also ?token=)
GET  /notifications POST /notifications/<id>/read    GET /notifications/ws (WebSocket)
POST /keys {label}  GET /keys                       API keys for the gateway
GET  /api/v1/records  GET /api/v1/quote             (X-API-Key: <key>; 5 calls a minute)
POST /analytics/events {topic}   GET /analytics/summary
GET|POST /custom/<name>                              the Custom template object
`;

/**
 * Analytics is sharded by client (terrarium.json `sharding.Analytics`: at most
 * 4 shards named "main", "main#1", ...), so a summary adds up every shard.
 */
const ANALYTICS_SHARDS = ["main", "main#1", "main#2", "main#3"];

function json(body: unknown, status = 200, headers: HeadersInit = {}): Response {
  return Response.json(body, { status, headers });
}

function error(status: number, message: string): Response {
  return json({ error: message }, status);
}

function tokenOf(request: Request, url: URL): string | null {
  const auth = request.headers.get("authorization");
  if (auth?.startsWith("Bearer ")) return auth.slice(7).trim();
  return url.searchParams.get("token");
}

async function readJson(request: Request): Promise<Record<string, unknown>> {
  const body = (await request.json().catch(() => null)) as unknown;
  return body !== null && typeof body === "object" && !Array.isArray(body)
    ? (body as Record<string, unknown>)
    : {};
}

function authAnswer(r: AuthResult, status = 200): Response {
  return r.ok ? json({ userId: r.userId, email: r.email, token: r.token }, status) : error(r.status, r.error);
}

/** The signed-in user, from `Authorization: Bearer <token>` (or ?token= for pages and sockets). */
async function session(
  request: Request,
  url: URL,
  env: Env,
): Promise<{ userId: string; token: string } | null> {
  const token = tokenOf(request, url);
  const email = token ? emailOfToken(token) : null;
  if (!token || !email) return null;
  const who = await env.AUTH.getByName(email).verify(token);
  return who ? { userId: who.userId, token } : null;
}

function gatewayResponse(a: GatewayAnswer): Response {
  const headers: Record<string, string> = {};
  if (a.retryAfterSeconds !== undefined) headers["retry-after"] = String(a.retryAfterSeconds);
  return json(a.body, a.status, headers);
}

async function handle(request: Request, env: Env, url: URL): Promise<Response> {
  const method = request.method;
  const path = url.pathname;

  if (path === "/" && method === "GET")
    return new Response(HELP, { headers: { "content-type": "text/plain" } });

  if (path === "/auth/signup" && method === "POST") {
    const b = await readJson(request);
    const email = String(b.email ?? "").toLowerCase();
    if (!email) return error(400, "a valid email is required");
    return authAnswer(
      await env.AUTH.getByName(email).signUp(email, String(b.password ?? ""), String(b.name ?? "")),
      201,
    );
  }
  if (path === "/auth/login" && method === "POST") {
    const b = await readJson(request);
    const email = String(b.email ?? "").toLowerCase();
    if (!email) return error(401, "wrong email or password");
    return authAnswer(await env.AUTH.getByName(email).logIn(email, String(b.password ?? "")));
  }

  if (path === "/analytics/summary" && method === "GET") {
    const parts = await Promise.all(ANALYTICS_SHARDS.map((name) => env.ANALYTICS.getByName(name).summary()));
    const totals: Record<string, number> = {};
    for (const p of parts)
      for (const [topic, n] of Object.entries(p.totals)) totals[topic] = (totals[topic] ?? 0) + n;
    const sorted = Object.fromEntries(Object.entries(totals).sort(([a], [b]) => (a < b ? -1 : 1)));
    return json({ totals: sorted, total: parts.reduce((s, p) => s + p.total, 0) });
  }

  if (path.startsWith("/api/v1/")) {
    const key = await findApiKey(env.DB, request.headers.get("x-api-key") ?? "");
    if (!key) return error(401, "an API key is required (X-API-Key)");
    return gatewayResponse(await env.GATEWAY.getByName(key.id).call(key, path.slice(8)));
  }

  const user = await session(request, url, env);
  if (!user) return error(401, "sign in first (Authorization: Bearer <token>)");
  const { userId } = user;

  if (path === "/auth/logout" && method === "POST") {
    return json({ loggedOut: await env.AUTH.getByName(emailOfToken(user.token)!).logOut(user.token) });
  }
  if (path === "/me") {
    if (method === "GET") return json(await env.USERS.getByName(userId).profile());
    if (method === "PATCH") {
      const r = await env.USERS.getByName(userId).update(await readJson(request));
      return "error" in r ? error(400, r.error) : json(r);
    }
  }
  if (path === "/records") {
    const data = env.DATA.getByName(userId);
    if (method === "GET") return json({ records: await data.records() });
    if (method === "POST") {
      const r = await data.addRecord(userId, await readJson(request));
      return "error" in r ? error(400, r.error) : json(r, 201);
    }
  }
  const recordMatch = /^\/records\/(\d+)$/.exec(path);
  if (recordMatch && method === "DELETE") {
    const deleted = await env.DATA.getByName(userId).deleteRecord(userId, Number(recordMatch[1]));
    return deleted ? json({ deleted: true }) : error(404, "no such record");
  }
  if (path === "/files" && method === "GET") return json({ files: await env.DATA.getByName(userId).files() });
  const fileMatch = /^\/files\/([^/]+)$/.exec(path);
  if (fileMatch) {
    const name = decodeURIComponent(fileMatch[1]!);
    if (method === "PUT") {
      const type = request.headers.get("content-type") ?? "application/octet-stream";
      const r = await env.DATA.getByName(userId).putFile(userId, name, await request.arrayBuffer(), type);
      return "error" in r ? error(400, r.error) : json(r, 201);
    }
    if (method === "GET") {
      const object = await env.FILES.get(fileKey(userId, name), { range: request.headers });
      if (!object || !("body" in object)) return error(404, "no such file");
      const headers = new Headers({ etag: object.httpEtag });
      object.writeHttpMetadata(headers);
      const range = object.range as { offset: number; length: number } | undefined;
      const partial = request.headers.has("range") && range !== undefined;
      if (partial)
        headers.set(
          "content-range",
          `bytes ${range.offset}-${range.offset + range.length - 1}/${object.size}`,
        );
      return new Response(object.body, { status: partial ? 206 : 200, headers });
    }
  }
  if (path === "/app" && method === "GET") {
    const page = await env.UI.getByName(userId).render(userId);
    return new Response(page.html, {
      headers: { "content-type": "text/html; charset=utf-8", "x-cache": page.cached ? "hit" : "miss" },
    });
  }
  if (path === "/notifications" && method === "GET") {
    return json({ notifications: await env.NOTIFICATIONS.getByName(userId).list() });
  }
  const readMatch = /^\/notifications\/(\d+)\/read$/.exec(path);
  if (readMatch && method === "POST") {
    const ok = await env.NOTIFICATIONS.getByName(userId).markRead(Number(readMatch[1]));
    return ok ? json({ read: true }) : error(404, "no such notification");
  }
  if (path === "/notifications/ws") return env.NOTIFICATIONS.getByName(userId).fetch(request);
  if (path === "/keys") {
    if (method === "POST") {
      const b = await readJson(request);
      const label = typeof b.label === "string" && b.label ? b.label.slice(0, 60) : "default";
      return json(await issueApiKey(env.DB, userId, label), 201);
    }
    if (method === "GET") return json({ keys: await listApiKeys(env.DB, userId) });
  }
  return error(404, "not found; GET / lists the API");
}

export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    return handle(request, env, new URL(request.url));
  },
} satisfies ExportedHandler<Env>;
