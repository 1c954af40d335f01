// E2E: a tenant rescues an instance from its page (the dialog says what happens; the state badge shows "rescue"; the
// page lists the rescue boot disk and the own system disk as the data disk) and unrescues it (running again). The
// instance is deleted again at the end, so acme's quota and the pool are as they were.
import { expect, type Page, test } from "@playwright/test";
import { confirm, createInstance, demoImagesReady, loginAs } from "./helpers";

const details = (page: Page) => page.getByRole("region", { name: "Instance details" });
const rescueSection = (page: Page) => page.getByRole("region", { name: "Rescue" });

test("rescue an instance from the browser and unrescue it", async ({ page }) => {
  test.setTimeout(240_000);
  const name = `rescue-${Math.random().toString(36).slice(2, 6)}`;
  await loginAs(page, "acmeAdmin");
  await demoImagesReady(page);
  // The server seeds acme's default subnet after the images: run alone on a busy machine, the form may lack it yet.
  await expect(async () => {
    await page.goto("/t/acme/instances/new");
    await expect(page.getByLabel("Subnet").locator("option", { hasText: /default/ })).toBeAttached({ timeout: 3000 });
  }).toPass({ timeout: 60_000, intervals: [2000] });
  await createInstance(page, name, { pool: "general" });
  try {
    await expect(details(page).getByTitle("State: running")).toBeVisible({ timeout: 90_000 });

    await rescueSection(page).getByRole("button", { name: "Rescue", exact: true }).click();
    const dialog = page.getByRole("dialog", { name: `Rescue ${name}` });
    await expect(dialog).toContainText("Its own system disk is attached as a second disk, untouched");
    await dialog.getByRole("button", { name: "Rescue", exact: true }).click();
    await expect(details(page).getByTitle("State: rescue")).toBeVisible({ timeout: 90_000 });
    const disks = page.getByRole("list", { name: "Disks in rescue" }).getByRole("listitem");
    await expect(disks).toHaveCount(2);
    await expect(disks.nth(0)).toContainText("Boot disk: the rescue image");
    await expect(disks.nth(1)).toContainText("the instance's own system disk, unchanged");
    await expect(rescueSection(page).getByRole("button", { name: "Rescue", exact: true })).toHaveAttribute("aria-disabled", "true");

    await rescueSection(page).getByRole("button", { name: "Unrescue" }).click();
    await confirm(page, `Unrescue ${name}?`, "Unrescue");
    await expect(details(page).getByTitle("State: running")).toBeVisible({ timeout: 90_000 });
    await expect(page.getByRole("list", { name: "Disks in rescue" })).toHaveCount(0);
  } finally {
    await page.getByRole("button", { name: "Delete" }).click();
    await confirm(page, `Delete instance ${name}?`, "Delete instance");
    await expect(page).toHaveURL(/\/t\/acme\/instances$/);
    await expect(page.getByRole("table", { name: "Instances" }).getByRole("link", { name, exact: true })).toHaveCount(0, { timeout: 60_000 });
  }
});
