import { existsSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { controlApi } from "../../runtime/api/control-api.ts";
import { enginesPerTest, request } from "../helpers/project.ts";

const engines = enginesPerTest();

describe("send_email: messages captured, not sent", () => {
  it("keeps each message in the data folder, lists it through the control API, and keeps it across a restart", async () => {
    const t = await engines.open("email");
    const sent = await request(t.engine, "POST", "/send", '{"subject":"Order 7","text":"It shipped."}');
    expect(sent.status).toBe(200);
    expect((sent.json as { messageId: string }).messageId).toMatch(/^<[A-Za-z0-9]{36}@example\.com>$/);
    const object = await request(t.engine, "POST", "/send-object", '{"to":"bob@example.com"}');
    expect(object.status).toBe(200);
    // Refused by the binding's config: nothing is kept.
    const refused = await request(t.engine, "POST", "/send", '{"to":"eve@example.com"}');
    expect(refused).toMatchObject({ status: 400, json: { error: "email to eve@example.com not allowed" } });

    const api = controlApi(t.engine);
    const list = await api.emails();
    expect(list.map((e) => [e.form, e.from, e.to, e.subject, e.binding, e.worker, e.attachments])).toEqual([
      ["builder", "shop@example.com", ["bob@example.com"], "Welcome", "EMAIL", "email", 1],
      ["raw", "shop@example.com", ["ann@example.com"], "Order 7", "EMAIL", "email", 0],
    ]);
    expect(list[1]!.messageId).toBe((sent.json as { messageId: string }).messageId);
    const raw = await api.email({ seq: list[1]!.seq });
    expect(raw?.raw).toContain("Subject: Order 7\r\n");
    expect(raw?.raw).toContain("It shipped.");
    const built = await api.email({ seq: list[0]!.seq });
    expect(built).toMatchObject({
      text: "Welcome aboard.",
      html: "<h1>Welcome</h1><p>Welcome aboard.</p>",
      attachmentList: [{ filename: "terms.txt", type: "text/plain", disposition: "attachment", bytes: 8 }],
    });
    expect(built?.raw).toContain('From: "Shop" <shop@example.com>');
    // The call schemas check what crosses the bridge.
    await expect(api.email({ seq: 0 })).rejects.toThrow();
    await expect(api.emails({ limit: -1 })).rejects.toThrow();
    expect(await api.email({ seq: 999 })).toBeNull();
    // The Design view lists the binding, saying it is captured.
    expect((await api.design()).external).toContainEqual({
      kind: "email",
      binding: "EMAIL",
      detail: "send_email: captured, not sent",
    });

    expect(existsSync(join(t.project.dataDir, "email.sqlite"))).toBe(true);
    const again = await t.reopen();
    expect((await controlApi(again).emails()).map((e) => e.subject)).toEqual(["Welcome", "Order 7"]);
  });
});
