// E2E: NICs of a running instance from the browser, against the production server and its lab. A tenant adds a NIC
// (a taken address is shown on the address field; then the subnet's next free one), watches the operation succeed
// with the instance still running and the NIC listed with its MAC, subnet and address, then removes it after a
// confirmation; the primary NIC's Remove stays disabled with its reason. The dialog is driven from the keyboard. The
// NIC is moved to a second subnet of the VPC on the way (same MAC, new address, the instance still running).
import { expect, type Page, test } from "@playwright/test";
import { createInstance, demoImagesReady, loginAs, submitDialog, toast } from "./helpers";

test.describe.configure({ mode: "serial" });

const suffix = Math.random().toString(36).slice(2, 6);
/** The second subnet's third octet (10.20.<octet>.0/24 in acme's default VPC 10.20.0.0/16; .1 is the default subnet). */
const octet = 100 + Math.floor(Math.random() * 150);
const details = (page: Page) => page.getByRole("region", { name: "Instance details" });
const latestOp = (page: Page) => page.getByRole("region", { name: "Latest operation" });
const nics = (page: Page) => page.getByRole("table", { name: "NICs" });

test("a tenant hot-adds a NIC to a running instance and removes it", async ({ page }) => {
  test.setTimeout(180_000);
  await loginAs(page, "acmeAdmin");
  await demoImagesReady(page); // run alone, the spec may start before the server has seeded them
  await createInstance(page, `nics-${suffix}`, { pool: "general" });
  await expect(details(page).getByTitle(/^State: running/)).toBeVisible({ timeout: 60_000 });
  const primary = (await page.getByTestId("instance-address").textContent())!;
  await expect(nics(page).getByRole("row", { name: /eth0 · primary/ })).toContainText(primary);
  await expect(nics(page).getByRole("button", { name: "Remove NIC eth0" })).toBeDisabled();

  // Keyboard: focus "Add NIC", open with Enter; the subnet's taken address is an error on the address field.
  await page.getByRole("button", { name: "Add NIC" }).focus();
  await page.keyboard.press("Enter");
  const dialog = page.getByRole("dialog", { name: `Add a NIC to nics-${suffix}` });
  await expect(dialog).toBeVisible();
  await dialog.getByLabel("Subnet").selectOption({ index: 1 });
  await dialog.getByLabel("IP address (optional)").fill(primary);
  await dialog.getByLabel("IP address (optional)").press("Enter");
  await expect(dialog.getByLabel("IP address (optional)")).toHaveAttribute("aria-invalid", "true");
  await expect(dialog).toContainText(`${primary} is already in use`);
  await dialog.getByLabel("IP address (optional)").fill("");
  await dialog.getByRole("button", { name: "Add NIC" }).click();
  await expect(dialog).toBeHidden();

  await expect(latestOp(page)).toContainText(/instance\.nic_attach.*succeeded/, { timeout: 60_000 });
  const eth1 = nics(page).getByRole("row", { name: /eth1/ });
  await expect(eth1).toContainText(/([0-9a-f]{2}:){5}[0-9a-f]{2}/);
  await expect(eth1).toContainText(/10\.20\.1\.\d+/);
  await expect(eth1).toContainText("default");
  await expect(eth1).not.toContainText("not on the DPU");
  await expect(details(page).getByTitle(/^State: running/)).toBeVisible(); // hot-plug: it kept running

  // Move eth1 to a second subnet of the VPC: same MAC, an address of the new subnet, still running.
  const instanceUrl = page.url();
  const mac = (await eth1.getByRole("cell").nth(1).textContent())!.trim();
  await page.goto("/t/acme/networks");
  await page.getByRole("table", { name: "VPCs" }).getByRole("link", { name: "default", exact: true }).click();
  await submitDialog(page, "Create subnet", { Name: `move-${suffix}`, "Subnet range": `10.20.${octet}.0/24` });
  await expect(toast(page, `Subnet move-${suffix} created (gateway 10.20.${octet}.1).`)).toBeVisible();
  const vpcUrl = page.url();
  await page.goto(instanceUrl);
  await nics(page).getByRole("button", { name: "Move NIC eth1", exact: true }).click();
  const move = page.getByRole("dialog", { name: `Move eth1 of nics-${suffix}` });
  await move.getByRole("button", { name: "Move NIC" }).click();
  await expect(move.getByLabel("New subnet")).toHaveAccessibleDescription(/Choose a subnet/);
  await expect(move.getByLabel("New subnet").locator("option", { hasText: "default / default" })).toHaveCount(0); // not where it is
  await move.getByLabel("New subnet").selectOption({ label: `default / move-${suffix} (10.20.${octet}.0/24)` });
  await move.getByRole("button", { name: "Move NIC" }).click();
  await expect(latestOp(page)).toContainText(/instance\.nic_move.*succeeded/, { timeout: 60_000 });
  await expect(eth1).toContainText(`move-${suffix}`);
  await expect(eth1).toContainText(new RegExp(`10\\.20\\.${octet}\\.\\d+`));
  await expect(eth1).toContainText(mac);
  await expect(details(page).getByTitle(/^State: running/)).toBeVisible();

  await nics(page).getByRole("button", { name: "Remove NIC eth1" }).click();
  const confirm = page.getByRole("dialog", { name: `Remove eth1 from nics-${suffix}?` });
  await confirm.getByRole("button", { name: "Remove NIC" }).click();
  await expect(latestOp(page)).toContainText(/instance\.nic_detach.*succeeded/, { timeout: 60_000 });
  await expect(nics(page).getByRole("row", { name: /eth1/ })).toHaveCount(0);
  await expect(details(page).getByTitle(/^State: running/)).toBeVisible();

  // Leave the lab's host free for the other specs.
  await page.getByRole("button", { name: "Delete", exact: true }).click();
  await page
    .getByRole("dialog", { name: `Delete instance nics-${suffix}?` })
    .getByRole("button", { name: "Delete instance" })
    .click();
  await expect(page).toHaveURL(/\/t\/acme\/instances$/);

  // The subnet the NIC moved to is free again (the NIC is gone): it can be deleted.
  await page.goto(vpcUrl);
  await page.getByRole("button", { name: `Delete subnet move-${suffix}` }).click();
  await page
    .getByRole("dialog", { name: `Delete subnet move-${suffix}?` })
    .getByRole("button", { name: "Delete subnet" })
    .click();
  await expect(page.getByRole("table", { name: "Subnets" }).getByRole("cell", { name: `move-${suffix}` })).toHaveCount(0);
});
