// E2E: live security rules. A tenant creates an instance (its port in the VPC's default group), opens that group and
// adds a rule in the browser while the lab's DPU agents refuse rule updates: the page names the DPU that did not take
// them ("applied on 0 of 1 NIC — DPU … unreachable"); once the agents accept again the reconciler's retry converges
// and the page says "applied on N of N NICs", as does the instance page for its NIC — all without a reload.
import fs from "node:fs";
import path from "node:path";
import { expect, test } from "@playwright/test";
import { createInstance, demoImagesReady, loginAs, toast } from "./helpers";

const suffix = Math.random().toString(36).slice(2, 6);
const manifestPath = process.env.ANVIL_LAB_MANIFEST ?? path.resolve("test-results/lab.json");

/** Sets the fault injection of every lab DPU agent (the instance's DPU is not the tenant's to know). */
async function agentFaults(faults: Record<string, unknown>) {
  const lab = JSON.parse(fs.readFileSync(manifestPath, "utf8")) as { hosts: { agent_url: string | null; agent_token: string | null }[] };
  for (const h of lab.hosts) {
    if (!h.agent_url) continue;
    const r = await fetch(`${h.agent_url}/admin/faults`, {
      method: "PUT",
      headers: { authorization: `Bearer ${h.agent_token}`, "content-type": "application/json" },
      body: JSON.stringify(faults),
    });
    expect(r.ok, `${h.agent_url}/admin/faults → ${r.status}`).toBe(true);
  }
}

test("a rule edited in the browser is applied on every NIC of the group", async ({ page }) => {
  test.setTimeout(240_000);
  await loginAs(page, "acmeAdmin");
  await demoImagesReady(page); // run alone, the spec may start before the server has seeded them
  await createInstance(page, `rules-${suffix}`, { pool: "general" });
  const details = page.getByRole("region", { name: "Instance details" });
  await expect(details.getByTitle(/^State: running/)).toBeVisible({ timeout: 60_000 });
  await expect(details.getByRole("status", { name: "Security rules enforcement" })).toHaveText("Rules applied on 1 of 1 NIC");
  const instanceUrl = page.url();

  // The demo VPC's default group (the instance's port is in it).
  await page.goto("/t/acme/networks");
  await page.getByRole("table", { name: "VPCs" }).getByRole("link", { name: "default", exact: true }).click();
  await expect(page.getByRole("heading", { name: "VPC default" })).toBeVisible();
  await page.getByRole("link", { name: "default", exact: true }).and(page.locator('[href*="/security-groups/"]')).click();
  await expect(page.getByRole("heading", { name: "Security group default" })).toBeVisible();
  const status = page.getByRole("status", { name: "Rules enforcement" });
  await expect(status).toHaveText(/^Rules applied on (\d+) of \1 NICs?$/);

  const before = Number(/of (\d+) NIC/.exec((await status.textContent()) ?? "")?.[1]);
  expect(before).toBeGreaterThanOrEqual(1);

  await agentFaults({ failAlways: ["updateNicRules"] });
  const port = String(20000 + Math.floor(Math.random() * 10000));
  const editor = page.getByRole("region", { name: "Add a rule" });
  await editor.getByLabel("Protocol").selectOption("tcp");
  await editor.getByLabel("First port").fill(port);
  await editor.getByLabel("Remote CIDR").fill("0.0.0.0/0");
  await editor.getByRole("button", { name: "Add rule" }).click();
  await expect(toast(page, /Rule added/)).toBeVisible();
  await expect(page.getByRole("table", { name: "Rules" }).getByRole("cell", { name: port, exact: true })).toBeVisible();
  // No agent takes the new rules: the page says so and names a DPU.
  await expect(status).toHaveText(new RegExp(`^Rules applied on 0 of ${before} NICs? — DPUs? \\S+-dpu.* unreachable$`), { timeout: 30_000 });
  // The agents accept again: the reconciler's retry (backoff, then the sweep) converges, seen live (the page polls).
  await agentFaults({ failAlways: [] });
  await expect(status).toHaveText(`Rules applied on ${before} of ${before} NIC${before === 1 ? "" : "s"}`, { timeout: 60_000 });

  await page.goto(instanceUrl);
  await expect(page.getByRole("region", { name: "Instance details" }).getByRole("status", { name: "Security rules enforcement" })).toHaveText(
    "Rules applied on 1 of 1 NIC",
  );

  // The tenant deletes it: the specs after this one count Acme's volumes and instances.
  await page.getByRole("button", { name: "Delete" }).click();
  await expect(page.getByRole("dialog")).toContainText(`Delete instance rules-${suffix}?`);
  await page.getByRole("dialog").getByRole("button", { name: "Delete instance" }).click();
  await expect(page).toHaveURL(/\/t\/acme\/instances$/);
  await expect(page.getByRole("table", { name: "Instances" }).getByRole("link", { name: `rules-${suffix}` })).toHaveCount(0, { timeout: 60_000 });
});
