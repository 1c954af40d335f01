// Tenant home and Activity E2E: a tenant admin's home shows what needs attention, instances by state, quota meters and
// recent operations; an instance being created appears there and turns succeeded without a reload, and its state's
// count opens the instances list filtered to that state. The Activity page lists the tenant's own changes (a VPC it
// created and deleted, filterable by action and person) and its operations — and nothing another tenant did, whose
// Activity page is not found for it.
import { expect, type Page, test } from "@playwright/test";
import { confirmAction, loginAs, selectMatching, signOut, submitDialog, toast, users } from "./helpers";

test.describe.configure({ mode: "serial" });

const suffix = Math.random().toString(36).slice(2, 6);
const instanceName = `home-${suffix}`;

/** Creates a VPC and deletes it again (two audit rows, nothing left behind to count against the quota). */
async function vpcCreatedAndDeleted(page: Page, tenant: string, name: string, cidr: string) {
  await page.goto(`/t/${tenant}/networks`);
  await submitDialog(page, "Create VPC", { Name: name, "IPv4 range": cidr });
  await expect(toast(page, new RegExp(`VPC ${name} created`))).toBeVisible();
  await confirmAction(page, `Delete VPC ${name}`, "Delete VPC");
  await expect(toast(page, `VPC ${name} deleted.`)).toBeVisible();
}

test("the home shows attention, instances by state, quota and recent operations, live while an instance is created", async ({ page }) => {
  test.setTimeout(180_000);
  await loginAs(page, "acmeAdmin", /\/t\/acme$/);
  await expect(page.getByRole("heading", { name: "Acme Corp" })).toBeVisible();
  await expect(page.getByText(/will appear here as they are built/)).toHaveCount(0);
  await expect(page.getByRole("region", { name: "Needs attention" })).toBeVisible();
  await expect(page.getByRole("region", { name: "Instances" })).toBeVisible();
  const quota = page.getByRole("region", { name: "Quota" });
  await expect(quota).toContainText(/Instances\s*\d+ of \d+/);
  await expect(quota).toContainText(/VPCs\s*\d+ of \d+/);
  await expect(page.getByRole("region", { name: "Recent operations" })).toBeVisible();

  // Create an instance, then come home: its create is the newest operation and turns succeeded by itself.
  await page.goto("/t/acme/instances/new");
  await page.getByLabel("Name", { exact: true }).fill(instanceName);
  await page
    .getByRole("radiogroup", { name: "Pool" })
    .getByRole("radio", { name: /^general\b/ })
    .check();
  await selectMatching(page.getByLabel("Image"), /debian-12/);
  await page.getByLabel("Subnet").selectOption({ index: 1 });
  await page.getByRole("button", { name: "Create instance" }).click();
  await expect(page).toHaveURL(/\/t\/acme\/instances\/[0-9a-f-]{36}$/);
  const instanceUrl = page.url();

  await page.getByRole("link", { name: "Overview", exact: true }).click();
  const recent = page.getByRole("list", { name: "Recent operations" });
  const createOp = recent
    .getByRole("listitem")
    .filter({ hasText: "instance.create" })
    .filter({ has: page.getByRole("link", { name: instanceName }) });
  await expect(createOp).toBeVisible();
  await expect(createOp).toContainText("succeeded", { timeout: 90_000 });
  await expect(createOp.getByRole("link", { name: instanceName })).toHaveAttribute("href", new URL(instanceUrl).pathname);

  // The running count opens the instances list filtered to running, with as many rows as it says.
  const running = page.getByRole("region", { name: "Instances" }).getByRole("link", { name: /^\d+ running$/ });
  await expect(running).toBeVisible();
  const n = Number((await running.getAttribute("aria-label"))!.split(" ")[0]);
  expect(n).toBeGreaterThan(0);
  await running.click();
  await expect(page).toHaveURL(/\/t\/acme\/instances\?state=running$/);
  await expect(page.getByLabel("Filter by state")).toHaveValue("running");
  const table = page.getByRole("table", { name: "Instances" });
  await expect(table.getByRole("link", { name: instanceName })).toBeVisible();
  await expect(table.locator("tbody tr")).toHaveCount(Math.min(n, 50));
  for (const badge of await table.locator("tbody tr td:nth-child(2)").allTextContents()) expect(badge).toBe("running");

  // Delete it again (the delete is the newest operation on the home).
  await page.goto(instanceUrl);
  await page.getByRole("button", { name: "Delete" }).click();
  await page.getByRole("dialog").getByRole("button", { name: "Delete instance" }).click();
  await page.goto("/t/acme");
  const deleteOp = recent
    .getByRole("listitem")
    .filter({ hasText: "instance.delete" })
    .filter({ has: page.getByRole("link", { name: instanceName }) });
  await expect(deleteOp).toContainText("succeeded", { timeout: 90_000 });
});

test("Activity lists the tenant's own changes and operations, filtered, and nothing of another tenant", async ({ page }) => {
  test.setTimeout(120_000);
  // Another tenant's change first.
  await loginAs(page, "globexAdmin", /\/t\/globex$/);
  await vpcCreatedAndDeleted(page, "globex", `glx-${suffix}`, "10.94.0.0/16");
  await signOut(page);

  await loginAs(page, "acmeAdmin", /\/t\/acme$/);
  const mine = `act-${suffix}`;
  await vpcCreatedAndDeleted(page, "acme", mine, "10.93.0.0/16");

  await page.getByRole("link", { name: "Activity", exact: true }).click();
  await expect(page).toHaveURL(/\/t\/acme\/activity$/);
  await expect(page.getByRole("heading", { name: "Activity" })).toBeVisible();
  const log = page.getByRole("table", { name: "Activity log" });
  const created = log.getByRole("row").filter({ hasText: "vpc.create" }).filter({ hasText: mine });
  await expect(created).toContainText(users.acmeAdmin);
  await expect(log.getByRole("row").filter({ hasText: "vpc.delete" }).filter({ hasText: mine })).toBeVisible();
  await expect(log).not.toContainText(`glx-${suffix}`);
  await expect(log).not.toContainText(users.globexAdmin);

  // Filters: by action (only creates), by person.
  await page.getByLabel("Action", { exact: true }).selectOption("vpc.create");
  await expect(log.getByRole("row").filter({ hasText: "vpc.delete" })).toHaveCount(0);
  await expect(log.getByRole("row").filter({ hasText: mine })).toHaveCount(1);
  await page.getByLabel("Who", { exact: true }).selectOption(users.acmeAdmin);
  await expect(log.getByRole("row").filter({ hasText: mine })).toHaveCount(1);
  for (const who of await log.locator("tbody tr td:nth-child(2)").allTextContents()) expect(who).toBe(users.acmeAdmin);
  // A day range that ends before today leaves nothing of today's changes.
  await page.getByLabel("To", { exact: true }).fill("2000-01-01");
  await expect(log.getByRole("row").filter({ hasText: mine })).toHaveCount(0);
  await expect(page.getByText("Nothing matches these filters")).toBeVisible();

  // Operations: this tenant's instance work from the first test, and none of another tenant's.
  await page.getByRole("tab", { name: "Operations" }).click();
  const ops = page.getByRole("table", { name: "Operations" });
  await expect(ops.getByRole("row").filter({ hasText: "instance.create" }).filter({ hasText: instanceName })).toContainText("succeeded");
  await page.getByLabel("Status", { exact: true }).selectOption("failed");
  await expect(ops.getByRole("row").filter({ hasText: instanceName })).toHaveCount(0);

  // Another tenant's Activity page does not exist for this admin.
  await page.goto("/t/globex/activity");
  await expect(page.getByRole("heading", { name: "Page not found" })).toBeVisible();
});
