import { existsSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { controlApi } from "../../runtime/api/control-api.ts";
import { enginesPerTest, request, until } from "../helpers/project.ts";

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

describe("incoming email: a Worker's email() handler", () => {
  const trigger = "/cdn-cgi/handler/email?from=ann@example.com&to=orders@example.com";
  const incoming = (subject: string) =>
    [
      "From: Ann <ann@example.com>",
      "To: orders@example.com",
      `Subject: ${subject}`,
      `Message-ID: <in-${subject.replace(/ /g, "-")}@example.com>`,
      "",
      "Where is my lamp?",
    ].join("\r\n");

  it("runs on POST /cdn-cgi/handler/email, and keeps what it forwards and replies with the captured mail", async () => {
    const t = await engines.open("email");
    const ok = await request(t.engine, "POST", trigger, incoming("order forward reply"));
    expect(ok).toMatchObject({ status: 200, body: "Worker successfully processed email" });

    const api = controlApi(t.engine);
    const list = await api.emails();
    expect(list.map((e) => [e.form, e.binding, e.worker, e.from, e.to, e.subject])).toEqual([
      ["reply", "email()", "email", "shop@example.com", ["ann@example.com"], "Re: your order"],
      ["forward", "email()", "email", "ann@example.com", ["ops@example.com"], "order forward reply"],
    ]);
    for (const e of list) expect(e.messageId).toMatch(/^[0-9a-f]{32}@example\.com$/);
    // The reply gets the References header the original's Message-ID gives; the forward, its extra header.
    const reply = await api.email({ seq: list[0]!.seq });
    expect(reply?.raw.startsWith("References: <in-order-forward-reply@example.com>\r\nFrom: Shop")).toBe(
      true,
    );
    const forward = await api.email({ seq: list[1]!.seq });
    expect(forward?.raw.startsWith("x-desk: 1\r\nFrom: Ann <ann@example.com>")).toBe(true);
  });

  it("answers a rejection, a throw, and a trigger without an envelope or a Message-ID as wrangler dev does", async () => {
    const t = await engines.open("email");
    expect(await request(t.engine, "POST", trigger, incoming("please reject"))).toMatchObject({
      status: 400,
      body: "Worker rejected email with the following reason: we do not take orders by email",
    });
    const thrown = await request(t.engine, "POST", trigger, incoming("throw"));
    expect(thrown.status).toBe(500);
    expect(thrown.body.split("\n")[0]).toBe("Error: the handler failed");
    expect(
      await request(t.engine, "POST", "/cdn-cgi/handler/email?to=x@example.com", incoming("x")),
    ).toMatchObject({
      status: 400,
      body: "Invalid email. Your request must include URL parameters specifying the `from` and `to` addresses, as well as an email in the body",
    });
    expect(await request(t.engine, "POST", trigger, "Subject: no id\r\n\r\nbody")).toMatchObject({
      status: 400,
      body: "Email could not be parsed: invalid or no message id provided",
    });
    // Nothing was forwarded or replied.
    expect(await controlApi(t.engine).emails()).toEqual([]);
    // The rejection is in the logs, in Miniflare's words.
    await until(
      async () =>
        (await controlApi(t.engine).logs({ limit: 50 })).some(
          (l) =>
            l.message ===
            'Email handler rejected message with the following reason: "we do not take orders by email"',
        ),
      "the rejection in the logs",
    );
  });
});
