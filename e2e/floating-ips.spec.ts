// E2E: floating IPs from the browser, against the production server and its lab. An operator creates a provider
// network and sets its gateway and MAC (an address outside the network is a field error first); a tenant allocates a
// floating IP, attaches it to an instance (picking no NIC is a field error first), sees it on the instance's page,
// moves it to a second instance, detaches it and releases it after a confirmation; the operator sees the allocation.
import { expect, type Page, test } from "@playwright/test";
import { createInstance, demoImagesReady, loginAs, selectMatching, signOut, submitDialog, toast } from "./helpers";

test.describe.configure({ mode: "serial" });

const suffix = Math.random().toString(36).slice(2, 6);
const vlan = 3600 + Math.floor(Math.random() * 250); // its third octet below: 0–249
const base = `100.100.${vlan - 3600}`;
const network = `fip-${suffix}`;
const details = (page: Page) => page.getByRole("region", { name: "Instance details" });
const fips = (page: Page) => page.getByRole("table", { name: "Floating IPs" });

test("an operator readies a provider network; a tenant allocates, attaches, moves, detaches and releases a floating IP", async ({ page }) => {
  test.setTimeout(300_000);

  // Operator: the network, then its gateway (outside the network first: a field error) and MAC.
  await loginAs(page, "operatorAdmin", /\/ops$/);
  await page.goto("/ops/networks");
  await submitDialog(page, "Create provider network", { Name: network, Range: `${base}.0/24`, "VLAN id": String(vlan) });
  await expect(toast(page, `Provider network ${network} created.`)).toBeVisible();
  const providers = page.getByRole("table", { name: "Provider networks" });
  await expect(providers.getByRole("row", { name: new RegExp(network) })).toContainText("not set: no floating IPs until it is");
  const edit = await submitDialog(
    page,
    `Edit provider network ${network}`,
    { "Gateway address": "198.51.100.1", "Gateway MAC": "52:54:00:12:34:56" },
    { submit: "Save" },
  );
  await expect(edit.getByLabel("Gateway address")).toHaveAccessibleDescription(/not inside the network/);
  await edit.getByLabel("Gateway address").fill(`${base}.1`);
  await edit.getByRole("button", { name: "Save" }).click();
  await expect(toast(page, `Provider network ${network} updated.`)).toBeVisible();
  await expect(providers.getByRole("row", { name: new RegExp(network) })).toContainText("0 / 253");
  await signOut(page);

  // Tenant: a VPC with a subnet (a spec run alone starts from the demo data), two servers to attach to.
  await loginAs(page, "acmeAdmin");
  await page.goto("/t/acme/networks");
  await submitDialog(page, "Create VPC", { Name: network, "IPv4 range": `10.${60 + (vlan % 30)}.0.0/16` });
  await expect(toast(page, new RegExp(`VPC ${network} created`))).toBeVisible();
  await page.getByRole("table", { name: "VPCs" }).getByRole("link", { name: network }).click();
  await submitDialog(page, "Create subnet", { Name: "web", "Subnet range": `10.${60 + (vlan % 30)}.1.0/24` });
  await expect(toast(page, /Subnet web created/)).toBeVisible();
  // The VPC's external gateway: the provider network (each DPU of the VPC gets its own SNAT address there).
  await page.getByLabel("External gateway").selectOption({ label: `${network} (${base}.0/24)` });
  await expect(toast(page, "External gateway set: the VPC's servers reach the outside.")).toBeVisible();
  await demoImagesReady(page);
  const servers = [`fa-${suffix}`, `fb-${suffix}`];
  const urls: string[] = [];
  for (const name of servers) {
    await createInstance(page, name, { pool: "general" });
    urls.push(page.url());
  }
  for (const url of urls) {
    await page.goto(url);
    await expect(details(page).getByTitle(/^State: running/)).toBeVisible({ timeout: 90_000 });
  }

  // Allocate.
  await page.getByRole("link", { name: "Floating IPs", exact: true }).click();
  await expect(page.getByRole("heading", { name: "Floating IPs" })).toBeVisible();
  await page.getByRole("button", { name: "Allocate floating IP" }).click();
  const allocate = page.getByRole("dialog", { name: "Allocate floating IP" });
  await selectMatching(allocate.getByLabel("Provider network"), new RegExp(`^${network} \\(${base.replace(/\./g, "\\.")}\\.0/24, \\d+ free\\)`));
  await allocate.getByRole("button", { name: "Allocate" }).click();
  // The lowest free address: the DPUs' SNAT addresses of the VPC may have taken the first ones.
  const allocated = toast(page, new RegExp(`Floating IP ${base.replace(/\./g, "\\.")}\\.\\d+ allocated from ${network}\\.`));
  await expect(allocated).toBeVisible();
  const fip = /(\d+\.\d+\.\d+\.\d+)/.exec((await allocated.textContent())!)![1]!;
  const row = fips(page).getByRole("row", { name: new RegExp(`${fip.replace(/\./g, "\\.")}\\b`) });
  await expect(row).toContainText("not attached");

  // Attach (from the keyboard): no NIC picked is a field error, then the first server's NIC.
  await row.getByRole("button", { name: `Attach ${fip}` }).focus();
  await page.keyboard.press("Enter");
  const attach = page.getByRole("dialog", { name: `Attach floating IP ${fip}` });
  await attach.getByRole("button", { name: "Attach" }).click();
  await expect(attach.getByLabel("Instance NIC")).toHaveAccessibleDescription(/Pick an instance NIC/);
  await selectMatching(attach.getByLabel("Instance NIC"), new RegExp(`^${servers[0]} · nic0`));
  await attach.getByRole("button", { name: "Attach" }).click();
  await expect(toast(page, `Floating IP ${fip} attached to ${servers[0]}.`)).toBeVisible();
  await expect(row).toContainText(servers[0]!);
  // Its progress: the DPU of the server's NIC has it once the overlay pass pushed it.
  await expect(row).toContainText(/applied on /, { timeout: 30_000 });

  // The instance's page shows it.
  await page.goto(urls[0]!);
  await expect(page.getByTestId("instance-floating-ip")).toContainText(`${fip}`);

  // Move to the second server in one step.
  await page.goto("/t/acme/floating-ips");
  await row.getByRole("button", { name: `Move ${fip}` }).click();
  const move = page.getByRole("dialog", { name: `Move floating IP ${fip}` });
  await selectMatching(move.getByLabel("Instance NIC"), new RegExp(`^${servers[1]} · nic0`));
  await move.getByRole("button", { name: "Move" }).click();
  await expect(toast(page, `Floating IP ${fip} moved to ${servers[1]}.`)).toBeVisible();
  await expect(row).toContainText(servers[1]!);
  await page.goto(urls[0]!);
  await expect(page.getByTestId("instance-floating-ip")).toHaveText("—");
  await page.goto(urls[1]!);
  await expect(page.getByTestId("instance-floating-ip")).toContainText(`${fip}`);

  // The operator sees it in the network's allocation, by tenant.
  await signOut(page);
  await loginAs(page, "operatorAdmin", /\/ops$/);
  await page.goto("/ops/networks");
  await expect(providers.getByRole("row", { name: new RegExp(network) })).toContainText(/[1-9]\d* \/ 253/);
  await page.getByRole("button", { name: `Allocation of ${network}` }).click();
  const byTenant = page.getByRole("table", { name: `Allocation of ${network} by tenant` });
  await expect(byTenant.getByRole("row", { name: /^acme 1 1 \d+$/ })).toBeVisible();
  await signOut(page);

  // Detach, then release after a confirmation.
  await loginAs(page, "acmeAdmin");
  await page.goto("/t/acme/floating-ips");
  await row.getByRole("button", { name: `Detach ${fip}` }).click();
  await page
    .getByRole("dialog", { name: `Detach ${fip}?` })
    .getByRole("button", { name: "Detach" })
    .click();
  await expect(toast(page, `Floating IP ${fip} detached.`)).toBeVisible();
  await expect(row).toContainText("not attached");
  await row.getByRole("button", { name: `Release ${fip}` }).click();
  const release = page.getByRole("dialog", { name: `Release ${fip}?` });
  await expect(release).toContainText(`goes back to ${network}`);
  await release.getByRole("button", { name: "Release" }).click();
  await expect(toast(page, `Floating IP ${fip} released.`)).toBeVisible();
  await expect(row).toHaveCount(0);

  // Leave the lab's hosts and the tenant's volume quota free for the other specs (storage.spec counts on it).
  for (const [i, url] of urls.entries()) {
    await page.goto(url!);
    await page.getByRole("button", { name: "Delete", exact: true }).click();
    await page
      .getByRole("dialog", { name: `Delete instance ${servers[i]}?` })
      .getByRole("button", { name: "Delete instance" })
      .click();
    await expect(page).toHaveURL(/\/t\/acme\/instances$/);
  }
  await expect(page.getByRole("table", { name: "Instances" }).getByRole("link", { name: new RegExp(`^f[ab]-${suffix}$`) })).toHaveCount(0, {
    timeout: 60_000,
  });
});
