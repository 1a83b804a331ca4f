import { join, resolve } from "node:path";
import { expect, test } from "./fixtures.ts";

const EMAIL = join(resolve(import.meta.dirname, "..", ".."), "test", "fixtures", "email");

test.describe("a project with a send_email binding", () => {
  test.use({ source: EMAIL });

  test("the Inspector lists every message the code sent, captured and not sent, and opens one", async ({
    app,
    shot,
  }) => {
    const { console: con, inspector, design } = app;
    await expect(design.canvas).toContainText("Email · send_email");
    await app.show("Console");
    await con.request("POST", "/send", '{"subject":"Order 7 shipped","text":"Your lamp is on its way."}');
    await expect(con.responseBody).toContainText("messageId");
    await con.request("POST", "/send-object", '{"to":"bob@example.com","text":"Glad to have you."}');
    await expect(con.responseBody).toContainText("messageId");
    await con.request("POST", "/send", '{"to":"eve@example.com"}');
    await expect(con.responseBody).toContainText("email to eve@example.com not allowed");

    await app.show("Inspector");
    await inspector.section("Email").click();
    await expect(inspector.page.getByTestId("email-note")).toContainText("Captured, not sent");
    await expect(inspector.email("Order 7 shipped")).toContainText("ann@example.com");
    await expect(inspector.email("Welcome")).toContainText("bob@example.com");
    await expect(inspector.page.getByTestId("email-table").locator("tr[data-email]")).toHaveCount(2);

    await inspector.email("Welcome").click();
    await expect(inspector.emailMessage).toContainText("<h1>Welcome</h1><p>Glad to have you.</p>");
    await expect(inspector.emailMessage).toContainText("terms.txt · text/plain · attachment · 8 bytes");
    await inspector.email("Order 7 shipped").click();
    await expect(inspector.emailMessage).toContainText("Subject: Order 7 shipped");
    await expect(inspector.emailMessage).toContainText("Your lamp is on its way.");
    await shot("inspector-email");
  });

  test("an incoming message's forward and reply from the Worker's email() handler are listed with the rest", async ({
    app,
    ui,
    shot,
  }) => {
    const raw = [
      "From: Ann <ann@example.com>",
      "To: orders@example.com",
      "Subject: lamp forward reply",
      "Message-ID: <lamp-1@example.com>",
      "",
      "Where is my lamp?",
    ].join("\r\n");
    const res = await fetch(
      `${ui.routerUrl}/cdn-cgi/handler/email?from=ann@example.com&to=orders@example.com`,
      { method: "POST", body: raw },
    );
    expect(await res.text()).toBe("Worker successfully processed email");

    const { inspector } = app;
    await app.show("Inspector");
    await inspector.section("Email").click();
    const forward = inspector.email("lamp forward reply");
    await expect(forward).toContainText("forwarded");
    await expect(forward).toContainText("email() handler");
    await expect(forward).toContainText("ops@example.com");
    const reply = inspector.email("Re: your order");
    await expect(reply).toContainText("reply");
    await reply.click();
    await expect(inspector.emailMessage).toContainText("References: <lamp-1@example.com>");
    await expect(inspector.emailMessage).toContainText("In-Reply-To: <lamp-1@example.com>");
    await shot("inspector-email-incoming");
  });
});
