// Webhooks end to end: a tenant admin adds a webhook pointing at a receiver this spec runs on loopback (the E2E server
// admits 127.0.0.0/8 and http:// through ANVIL_WEBHOOK_ALLOW / ANVIL_WEBHOOK_ALLOW_HTTP), reads the signing secret
// once, sends a test and checks at the receiver that the delivery is signed with that secret; the UI shows the
// delivery; a metadata address is refused on the field; disable, enable, delete after confirmation. A member has no
// Webhooks page.
import { createHmac } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { expect, test } from "@playwright/test";
import { loginAs, switchTo } from "./helpers";

interface Received {
  path: string;
  signature: string;
  body: string;
}

test("a tenant admin adds a webhook, sends a signed test to a receiver, sees the delivery, disables and deletes it", async ({ page }) => {
  const received: Received[] = [];
  const receiver = http.createServer((req, res) => {
    let body = "";
    req.on("data", (c) => {
      body += c;
    });
    req.on("end", () => {
      received.push({ path: req.url ?? "", signature: String(req.headers["anvil-signature"] ?? ""), body });
      res.writeHead(200, { "content-type": "text/plain" }).end("ok");
    });
  });
  await new Promise<void>((r) => receiver.listen(0, "127.0.0.1", r));
  const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/anvil-hook`;
  const name = `e2e-hook-${Math.random().toString(36).slice(2, 7)}`;
  try {
    await loginAs(page, "acmeAdmin", /\/t\/acme$/);
    await page.getByRole("link", { name: "Webhooks", exact: true }).click();
    await expect(page).toHaveURL(/\/t\/acme\/webhooks$/);

    // A cloud-metadata address is refused on the field, and nothing is added.
    await page.getByRole("button", { name: "Add webhook" }).click();
    const add = page.getByRole("dialog", { name: "Add webhook" });
    await add.getByLabel("Name").fill(name);
    await add.getByLabel("Endpoint URL").fill("http://169.254.169.254/latest");
    await add.getByRole("checkbox", { name: /An operation succeeds/ }).check();
    await add.getByRole("button", { name: "Add webhook" }).click();
    await expect(add.getByLabel("Endpoint URL")).toHaveAccessibleDescription(/169\.254\.169\.254/);

    // The receiver's address is accepted; the secret is shown once.
    await add.getByLabel("Endpoint URL").fill(url);
    await add.getByRole("button", { name: "Add webhook" }).click();
    const shown = page.getByRole("dialog", { name: `Webhook ${name} added` });
    const secret = await shown.getByLabel("Signing secret").inputValue();
    expect(secret.length).toBeGreaterThanOrEqual(32);
    await shown.getByRole("button", { name: "Done" }).click();
    const row = page.getByRole("table", { name: "Webhooks" }).getByRole("row", { name: new RegExp(name) });
    await expect(row).toContainText("enabled");
    await expect(row).toContainText("operation.succeeded");

    // A test delivery reaches the receiver, signed with the secret.
    await page.getByRole("button", { name: `Send a test to ${name}` }).click();
    await expect.poll(() => received.length, { timeout: 20_000 }).toBeGreaterThan(0);
    const got = received[0]!;
    expect(got.path).toBe("/anvil-hook");
    const parts = Object.fromEntries(got.signature.split(",").map((p) => p.split("=", 2) as [string, string]));
    expect(parts.v1).toBe(createHmac("sha256", secret).update(`${parts.t}.${got.body}`).digest("hex"));
    expect(JSON.parse(got.body)).toMatchObject({ type: "webhook.ping", data: { name } });

    // The UI shows the delivery, in the row and in the webhook's deliveries.
    await expect(row).toContainText(/delivered\s*HTTP 200/);
    await page.getByRole("button", { name: `Deliveries of ${name}` }).click();
    const deliveries = page.getByRole("dialog", { name: `Deliveries of ${name}` });
    await expect(deliveries.getByRole("row", { name: /webhook\.ping/ })).toContainText("delivered");
    await deliveries.getByRole("button", { name: "Close" }).click();

    // Disabled, it cannot send a test; enabled again, it can.
    await page.getByRole("button", { name: `Disable ${name}` }).click();
    await expect(row).toContainText("disabled");
    await expect(page.getByRole("button", { name: `Send a test to ${name}` })).toBeDisabled();
    await page.getByRole("button", { name: `Enable ${name}` }).click();
    await expect(page.getByRole("button", { name: `Send a test to ${name}` })).toBeEnabled();

    // Delete, after confirmation.
    await page.getByRole("button", { name: `Delete webhook ${name}` }).click();
    const confirm = page.getByRole("dialog", { name: `Delete webhook ${name}?` });
    await expect(confirm).toContainText(url);
    await confirm.getByRole("button", { name: "Delete webhook" }).click();
    await expect(row).toHaveCount(0);

    // A member of the tenant has no Webhooks page in the navigation.
    await switchTo(page, "acmeMember", /\/t\/acme$/);
    await expect(page.getByRole("link", { name: "Webhooks", exact: true })).toHaveCount(0);
  } finally {
    receiver.close();
  }
});
