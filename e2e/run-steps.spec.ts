// The "Run steps" dialog on a host (nodes.runStep with execute-on-children, issue #17 point 5): an operator admin lists
// "power off the DPUs" then "power on the DPUs" (ordering them with the move buttons), runs them and sees each step's
// outcome; a single power-off shows on the DPU's own page; a firmware step with an image URL off the management network
// is refused on its field. Uses an enrolled lab host with a DPU that no other spec takes (the lab manifest is written by
// scripts/e2e-server.sh; live-events takes the last enrolled host, the other specs spare or scheduled ones).
import fs from "node:fs";
import path from "node:path";
import { expect, type Page, test } from "@playwright/test";
import { loginAs } from "./helpers";

interface LabHost {
  name: string;
  dpu_bmc_address: string | null;
}

const manifestPath = process.env.ANVIL_LAB_MANIFEST ?? path.resolve("test-results/lab.json");
/** How many of the lab's hosts the E2E server enrolls (the rest are spares other specs enroll themselves). */
const ENROLLED = 16;

const status = (page: Page, name: string) => page.getByRole("region", { name: `Status of ${name}` });

async function openNode(page: Page, name: string) {
  await page.goto("/ops/nodes");
  const table = page.getByRole("table", { name: "Nodes" });
  await expect(table.getByRole("row").nth(1)).toBeVisible();
  await page.getByLabel("Search nodes").fill(name);
  await table.getByRole("link", { name, exact: true }).click();
  await expect(page.getByRole("heading", { name, level: 1 })).toBeVisible();
}

test("an operator admin runs a list of steps on a host's DPU and sees each outcome; an off-network firmware URL is refused", async ({ page }) => {
  test.setTimeout(240_000);
  await expect.poll(() => fs.existsSync(manifestPath), { timeout: 90_000, message: `the lab manifest at ${manifestPath}` }).toBe(true);
  const lab = JSON.parse(fs.readFileSync(manifestPath, "utf8")) as { hosts: LabHost[] };
  // The enrolled host with a DPU just before the last enrolled one (live-events injects faults at that one).
  const host = lab.hosts
    .slice(0, ENROLLED - 1)
    .filter((h) => h.dpu_bmc_address)
    .at(-1)!;
  expect(host, "the lab enrolls hosts with DPUs").toBeTruthy();
  const dpuName = `${host.name}-dpu`;

  await loginAs(page, "operatorAdmin", /\/ops$/);
  await openNode(page, host.name);
  const dpuRow = page
    .getByRole("table", { name: `DPUs of ${host.name}` })
    .getByRole("row")
    .filter({ has: page.getByRole("link", { name: dpuName }) });

  // The DPU takes its power from the host: both go on first, so that "off, then on" starts from on.
  if ((await status(page, host.name).getByTitle("Power: on").count()) === 0) {
    await page.getByRole("button", { name: "Power on", exact: true }).click();
    await expect(status(page, host.name).getByTitle("Power: on")).toBeVisible({ timeout: 30_000 });
  }
  await expect(dpuRow.getByTitle(/^Power: (on|off)$/)).toBeVisible({ timeout: 30_000 });
  if ((await dpuRow.getByTitle("Power: on").count()) === 0) {
    await dpuRow.getByRole("button", { name: `Power on ${dpuName}` }).click();
    await expect(dpuRow.getByTitle("Power: on")).toBeVisible({ timeout: 30_000 });
  }

  // Two steps, put in order with the move button: power off the DPUs, then power them on.
  await page.getByRole("button", { name: "Run steps" }).click();
  const dialog = page.getByRole("dialog", { name: `Run steps on ${host.name}` });
  await expect(dialog.getByLabel("Step 1 runs on")).toHaveValue("dpus");
  await dialog.getByLabel("Step 1", { exact: true }).selectOption({ label: "Power on" });
  await dialog.getByRole("button", { name: "Add step" }).click();
  await dialog.getByLabel("Step 2", { exact: true }).selectOption({ label: "Power off" });
  await dialog.getByRole("button", { name: "Move step 2 up" }).click();
  await expect(dialog.getByLabel("Step 1", { exact: true })).toHaveValue("power_off");
  await expect(dialog.getByLabel("Step 2", { exact: true })).toHaveValue("power_on");
  await expect(dialog.getByLabel("Step 2 runs on")).toHaveValue("dpus");
  await dialog.getByRole("button", { name: "Run steps" }).click();

  const first = dialog.getByRole("listitem", { name: "Result of step 1" });
  const second = dialog.getByRole("listitem", { name: "Result of step 2" });
  await expect(first).toContainText("Power off on its DPUs");
  await expect(first).toContainText(`${dpuName}: Power off requested.`);
  await expect(first.getByText("done", { exact: true })).toBeVisible({ timeout: 60_000 });
  await expect(second).toContainText(`${dpuName}: Power on requested.`);
  await expect(second.getByText("done", { exact: true })).toBeVisible({ timeout: 60_000 });
  await dialog.getByRole("button", { name: "Cancel" }).click();
  await expect(dpuRow.getByTitle("Power: on")).toBeVisible({ timeout: 30_000 });

  // One power-off: the DPU's own page (linked from the step's result) shows it off, and the host stayed on.
  await page.getByRole("button", { name: "Run steps" }).click();
  await dialog.getByLabel("Step 1", { exact: true }).selectOption({ label: "Power off" });
  await dialog.getByRole("button", { name: "Run steps" }).click();
  await expect(first.getByText("done", { exact: true })).toBeVisible({ timeout: 60_000 });
  await expect(status(page, host.name).getByTitle("Power: on")).toBeVisible();
  await first.getByRole("link", { name: `Operations of ${dpuName}` }).click();
  await expect(page.getByRole("heading", { name: dpuName, level: 1 })).toBeVisible();
  await expect(status(page, dpuName).getByTitle("Power: off")).toBeVisible({ timeout: 30_000 });
  // Put it back on from its page, as the lab was.
  await page.getByRole("button", { name: "Power on", exact: true }).click();
  await expect(status(page, dpuName).getByTitle("Power: on")).toBeVisible({ timeout: 30_000 });

  // A firmware step whose image is off the management network: refused on its field, nothing started.
  await openNode(page, host.name);
  await page.getByRole("button", { name: "Run steps" }).click();
  await dialog.getByLabel("Step 1", { exact: true }).selectOption({ label: "Firmware/OS update (DPUs)" });
  await dialog.getByLabel("Step 1 image URL").fill("http://169.254.169.254/bf-bundle.bfb");
  await dialog.getByRole("button", { name: "Run steps" }).click();
  await expect(dialog.getByText(/not on the management network/).first()).toBeVisible();
  await expect(dialog.getByLabel("Step 1 image URL")).toHaveAttribute("aria-invalid", "true");
  await expect(first.getByText("failed", { exact: true })).toBeVisible();
});
