import { DurableObject } from "cloudflare:workers";

/**
 * User Management: one object per user id, holding the profile and the
 * preferences. Created by Authentication at sign-up (RPC).
 */

interface Env {
  EVENTS: { publish(topic: string, data: unknown): Promise<{ id: number }> };
}

export interface Preferences {
  theme: "light" | "dark";
  notifications: boolean;
}

export interface Profile {
  userId: string;
  email: string;
  name: string;
  preferences: Preferences;
}

const DEFAULTS: Preferences = { theme: "light", notifications: true };

export class UserProfiles extends DurableObject<Env> {
  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    ctx.storage.sql.exec(`CREATE TABLE IF NOT EXISTS profile (
      id INTEGER PRIMARY KEY CHECK (id = 1),
      user_id TEXT NOT NULL, email TEXT NOT NULL, name TEXT NOT NULL, preferences TEXT NOT NULL
    )`);
  }

  /** Idempotent: a retried sign-up does not overwrite a profile. */
  create(input: { userId: string; email: string; name: string }): Profile {
    this.ctx.storage.sql.exec(
      "INSERT OR IGNORE INTO profile (id, user_id, email, name, preferences) VALUES (1, ?, ?, ?, ?)",
      input.userId,
      input.email,
      input.name,
      JSON.stringify(DEFAULTS),
    );
    return this.profile()!;
  }

  profile(): Profile | null {
    const row = this.ctx.storage.sql
      .exec<{ user_id: string; email: string; name: string; preferences: string }>("SELECT * FROM profile")
      .toArray()[0];
    if (!row) return null;
    return {
      userId: row.user_id,
      email: row.email,
      name: row.name,
      preferences: JSON.parse(row.preferences) as Preferences,
    };
  }

  async update(changes: {
    name?: unknown;
    theme?: unknown;
    notifications?: unknown;
  }): Promise<Profile | { error: string }> {
    const current = this.profile();
    if (!current) return { error: "no such user" };
    const prefs = { ...current.preferences };
    if (changes.theme !== undefined) {
      if (changes.theme !== "light" && changes.theme !== "dark")
        return { error: 'theme is "light" or "dark"' };
      prefs.theme = changes.theme;
    }
    if (changes.notifications !== undefined) {
      if (typeof changes.notifications !== "boolean") return { error: "notifications is true or false" };
      prefs.notifications = changes.notifications;
    }
    let name = current.name;
    if (changes.name !== undefined) {
      if (typeof changes.name !== "string" || changes.name.trim() === "" || changes.name.length > 80)
        return { error: "name is 1 to 80 characters" };
      name = changes.name.trim();
    }
    this.ctx.storage.sql.exec("UPDATE profile SET name = ?, preferences = ?", name, JSON.stringify(prefs));
    await this.env.EVENTS.publish("user.updated", { userId: current.userId });
    return this.profile()!;
  }
}
