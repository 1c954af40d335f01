// The vendor-passthrough step in the "Run steps" dialog (issue #17 point 5): an operator admin lists a Redfish OEM
// action on a lab host's BMC (host→card BMC access, as the Ironic DPU spec uses around a firmware update), the same
// action with a body the BMC refuses, and a power-on after it. The first takes effect on the BMC, the second fails
// with the BMC's own message, and the list stops there: the power-on is not run.
import fs from "node:fs";
import path from "node:path";
import { expect, test } from "@playwright/test";
import { loginAs } from "./helpers";

interface LabHost {
  name: string;
  bmc_address: string;
  bmc_username: string;
  bmc_password: string;
}

const manifestPath = process.env.ANVIL_LAB_MANIFEST ?? path.resolve("test-results/lab.json");

test("a Redfish OEM action runs as a step; one the BMC refuses fails with its message and stops the list", async ({ page }) => {
  test.setTimeout(150_000);
  await expect.poll(() => fs.existsSync(manifestPath), { timeout: 90_000, message: `the lab manifest at ${manifestPath}` }).toBe(true);
  const host = (JSON.parse(fs.readFileSync(manifestPath, "utf8")) as { hosts: LabHost[] }).hosts[8]!;
  // The BMC as a client sees it: its Manager advertises the OEM action and shows the setting.
  const auth = { authorization: `Basic ${Buffer.from(`${host.bmc_username}:${host.bmc_password}`).toString("base64")}` };
  const origin = new URL(host.bmc_address).origin;
  const managers = (await (await fetch(`${origin}/redfish/v1/Managers`, { headers: auth })).json()) as { Members: { "@odata.id": string }[] };
  const managerPath = managers.Members[0]!["@odata.id"];
  const access = async () =>
    ((await (await fetch(`${origin}${managerPath}`, { headers: auth })).json()) as { Oem: { Anvil: { HostBmcAccess: string } } }).Oem.Anvil.HostBmcAccess;
  const target = `${managerPath}/Actions/Oem/AnvilManager.HostBmcAccess`;

  await loginAs(page, "operatorAdmin", /\/ops$/);
  // The E2E server inspects its lab after start: a passthrough waits until Anvil no longer drives the host (nodeCan.passthrough).
  await expect
    .poll(
      async () => {
        const res = await page.request.get(`/api/trpc/nodes.list?input=${encodeURIComponent(JSON.stringify({ json: { q: host.name, limit: 50 } }))}`);
        const items = (await res.json()).result.data.json.items as { name: string; provisionState: string }[];
        return items.find((n) => n.name === host.name)?.provisionState;
      },
      { timeout: 60_000, message: `${host.name} settled` },
    )
    .toMatch(/^(manageable|available|active)$/);
  await page.goto("/ops/nodes");
  await page.getByLabel("Search nodes").fill(host.name);
  await page.getByRole("table", { name: "Nodes" }).getByRole("link", { name: host.name, exact: true }).click();
  await expect(page.getByRole("heading", { name: host.name, level: 1 })).toBeVisible();
  await page.getByRole("button", { name: "Run steps" }).click();
  const dialog = page.getByRole("dialog", { name: `Run steps on ${host.name}` });

  const passthrough = async (i: number, body: string) => {
    await dialog.getByLabel(`Step ${i}`, { exact: true }).selectOption({ label: "Vendor passthrough" });
    await dialog.getByLabel(`Step ${i} runs on`).selectOption("host");
    await expect(dialog.getByLabel(`Step ${i} vendor request`)).toHaveValue("redfish_oem");
    await dialog.getByLabel(`Step ${i} action path`).fill(target);
    await dialog.getByLabel(`Step ${i} JSON body`).fill(body);
  };
  await passthrough(1, '{"Enabled": true}');
  await dialog.getByRole("button", { name: "Add step" }).click();
  await passthrough(2, '{"Enabled": "yes"}');
  await dialog.getByRole("button", { name: "Add step" }).click();
  await dialog.getByLabel("Step 3", { exact: true }).selectOption({ label: "Power on" });
  await dialog.getByLabel("Step 3 runs on").selectOption("host");
  await dialog.getByRole("button", { name: "Run steps" }).click();

  const result = (i: number) => dialog.getByRole("listitem", { name: `Result of step ${i}` });
  await expect(result(1)).toContainText(`${host.name}: The BMC accepted AnvilManager.HostBmcAccess (HTTP 204).`);
  await expect(result(1).getByText("done", { exact: true })).toBeVisible();
  await expect(result(2).getByText("failed", { exact: true })).toBeVisible();
  await expect(result(2)).toContainText("The value 'yes' for the parameter Enabled in the action AnvilManager.HostBmcAccess is of a different type");
  await expect(result(3).getByText("not run", { exact: true })).toBeVisible();
  expect(await access()).toBe("Enabled"); // the first took effect; the refused one changed nothing
});
