import { DurableObject } from "cloudflare:workers";

/**
 * UI Renderer: one object per user, rendering the user's page as HTML on
 * the server from their profile (User Management) and data (Data
 * Storage). The page is cached in the object's storage and invalidated by
 * the Event Bus when the user's records or files change. Everything that
 * comes from the user is escaped.
 */

interface Env {
  USERS: DurableObjectNamespace;
  DATA: DurableObjectNamespace;
}

interface UsersRpc {
  profile(): Promise<{ name: string; email: string; preferences: { theme: string } } | null>;
}
interface DataRpc {
  records(): Promise<{ id: number; title: string; body: string }[]>;
  files(): Promise<{ name: string; size: number; contentType: string }[]>;
}

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

export class UiRenderer extends DurableObject<Env> {
  /** The user's page; `cached` tells whether it came from the cache. */
  async render(userId: string): Promise<{ html: string; cached: boolean }> {
    const cached = await this.ctx.storage.get<string>("page");
    if (cached !== undefined) return { html: cached, cached: true };
    const users = this.env.USERS.getByName(userId) as unknown as UsersRpc;
    const data = this.env.DATA.getByName(userId) as unknown as DataRpc;
    const [profile, records, files] = await Promise.all([users.profile(), data.records(), data.files()]);
    if (!profile)
      return { html: "<!doctype html><title>Not found</title><p>No such user.</p>", cached: false };
    const html = [
      "<!doctype html>",
      `<html lang="en" data-theme="${escapeHtml(profile.preferences.theme)}">`,
      `<head><meta charset="utf-8"><title>${escapeHtml(profile.name)} · AIDevOS</title></head>`,
      "<body>",
      `<h1>${escapeHtml(profile.name)}</h1>`,
      `<p class="email">${escapeHtml(profile.email)}</p>`,
      `<h2>Records (${records.length})</h2>`,
      "<ul>",
      ...records.map((r) => `<li><strong>${escapeHtml(r.title)}</strong> ${escapeHtml(r.body)}</li>`),
      "</ul>",
      `<h2>Files (${files.length})</h2>`,
      "<ul>",
      ...files.map((f) => `<li>${escapeHtml(f.name)} (${f.size} bytes, ${escapeHtml(f.contentType)})</li>`),
      "</ul>",
      "</body></html>",
    ].join("\n");
    await this.ctx.storage.put("page", html);
    return { html, cached: false };
  }

  /** Event Bus subscriber: the user's data changed, so the next render is fresh. */
  async invalidate(): Promise<void> {
    await this.ctx.storage.delete("page");
  }
}
