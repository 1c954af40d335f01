// E2E: the hardware operations the hardware spec leaves out, as an operator does them. Two of the lab's spare hosts
// are enrolled from a CSV file (a third row points at a BMC that does not answer and fails on its own line); on one of
// them the operator puts the node into maintenance and out again, moves it to the other pool, sets its boot device,
// and a script runs steps on its DPU (nodes.runStep with execute-on-children, through the API with the operator's
// session) whose effect shows on the host's page; then the DPU takes a firmware update from the UI. An IPMI BMC (a
// real ipmi_sim beside the test) is enrolled and powered on and off. Everything enrolled here is deleted again, so
// the later specs find the lab as the E2E server made it.
import fs from "node:fs";
import path from "node:path";
import { expect, type Page, test } from "@playwright/test";
import { type IpmiSim, startIpmiSim } from "../test/ipmi-sim";
import { confirm, loginAs, toast } from "./helpers";

interface LabHost {
  name: string;
  pool: string;
  dpu_bmc_address: string | null;
}

test.describe.configure({ mode: "serial" });

const manifestPath = process.env.ANVIL_LAB_MANIFEST ?? path.resolve("test-results/lab.json");
const sfx = Math.random().toString(36).slice(2, 6);

/** A tRPC query as a script makes it, with the page's session. */
async function trpcQuery<T>(page: Page, proc: string, input: unknown): Promise<T> {
  const res = await page.request.get(`/api/trpc/${proc}?input=${encodeURIComponent(JSON.stringify({ json: input }))}`);
  expect(res.ok(), `${proc} → ${res.status()}`).toBe(true);
  return (await res.json()).result.data.json as T;
}

/** A tRPC mutation as a script makes it: the raw response, for the caller to check. */
function trpcMutation(page: Page, proc: string, input: unknown) {
  return page.request.post(`/api/trpc/${proc}`, { data: { json: input } });
}

async function nodeByName(page: Page, name: string): Promise<{ id: string; name: string } | undefined> {
  const r = await trpcQuery<{ items: { id: string; name: string }[] }>(page, "nodes.list", { q: name, includeChildren: true, limit: 50 });
  return r.items.find((n) => n.name === name);
}

/** Deletes the named nodes (and their DPUs) if they exist: what this spec enrolled goes away, whatever failed. */
async function deleteNodes(page: Page, names: string[]) {
  for (const name of names) {
    const n = await nodeByName(page, name);
    if (n) expect((await trpcMutation(page, "nodes.delete", { id: n.id })).ok(), `delete ${name}`).toBe(true);
  }
}

const status = (page: Page, name: string) => page.getByRole("region", { name: `Status of ${name}` });

async function openNode(page: Page, name: string) {
  await page.goto("/ops/nodes");
  const table = page.getByRole("table", { name: "Nodes" });
  await expect(table.getByRole("row").nth(1)).toBeVisible();
  await page.getByLabel("Search nodes").fill(name);
  await table.getByRole("link", { name, exact: true }).click();
  await expect(page.getByRole("heading", { name, level: 1 })).toBeVisible();
}

let csvHosts: LabHost[] = [];
const ipmiName = `e2e-ipmi-${sfx}`;
let sim: IpmiSim | undefined;

// Serial mode skips the rest after a failure (and a timeout abandons a test's finally): whatever this spec enrolled
// is deleted here in any case, and the IPMI simulator stopped.
test.afterAll(async ({ browser }) => {
  const page = await browser.newPage();
  await loginAs(page, "operatorAdmin", /\/ops$/);
  await deleteNodes(page, [...csvHosts.map((h) => h.name), ipmiName]);
  await page.close();
  await sim?.stop();
});

test("bulk enroll two lab hosts from a CSV file; a row whose BMC does not answer fails on its own line", async ({ page }) => {
  test.setTimeout(120_000);
  const lab = JSON.parse(fs.readFileSync(manifestPath, "utf8")) as { hosts: LabHost[] };
  const csv = fs.readFileSync(manifestPath.replace(/\.json$/, ".csv"), "utf8").split(/\r?\n/);
  await loginAs(page, "operatorAdmin", /\/ops$/);
  // The first two spare hosts with a DPU (the hardware spec takes its host from the end of the lab).
  for (const h of lab.hosts.filter((x) => x.dpu_bmc_address)) {
    if (csvHosts.length === 2) break;
    if (!(await nodeByName(page, h.name))) csvHosts.push(h);
  }
  expect(csvHosts, "the lab leaves at least two hosts with DPUs unenrolled").toHaveLength(2);
  const header = csv[0]!;
  const rows = csvHosts.map((h) => csv.find((l) => l.startsWith(`${h.name},`))!);
  const dead = `e2e-dead-${sfx}`;
  const deadRow = [dead, "general", "redfish", "http://127.0.0.1:9", "admin", "secret", "false"].concat(Array(header.split(",").length - 7).fill(""));
  const file = [header, rows[0], deadRow.join(","), rows[1], ""].join("\r\n");

  try {
    await page.goto("/ops/nodes");
    await expect(page.getByRole("table", { name: "Nodes" }).getByRole("row").nth(1)).toBeVisible();
    await page.getByRole("button", { name: "Bulk enroll (CSV)" }).click();
    const dialog = page.getByRole("dialog", { name: "Bulk enroll (CSV)" });
    // No file chosen: said on the field.
    await dialog.getByRole("button", { name: "Upload and enroll" }).click();
    await expect(dialog.getByText("Choose a CSV file")).toBeVisible();
    await dialog.getByLabel("CSV file").setInputFiles({ name: "lab.csv", mimeType: "text/csv", buffer: Buffer.from(file) });
    await dialog.getByRole("button", { name: "Upload and enroll" }).click();
    const results = dialog.getByRole("table", { name: "Enrollment results" });
    await expect(results).toBeVisible({ timeout: 60_000 });
    await expect(dialog.getByRole("region", { name: /^Operation node\.enroll_bulk/ })).toContainText("succeeded");
    for (const h of csvHosts) await expect(results.getByRole("row").filter({ hasText: h.name })).toContainText("ok");
    const failed = results.getByRole("row").filter({ hasText: dead });
    await expect(failed).toContainText("failed");
    await expect(failed).toContainText("127.0.0.1:9");
    await dialog.getByRole("button", { name: "Close", exact: true }).click();

    // The list behind shows the new nodes, manageable, with their DPUs.
    const table = page.getByRole("table", { name: "Nodes" });
    for (const h of csvHosts) {
      await page.getByLabel("Search nodes").fill(h.name);
      const row = table.getByRole("row").filter({ has: page.getByRole("link", { name: h.name, exact: true }) });
      await expect(row.getByTitle("State: manageable")).toBeVisible();
    }
    await page.getByLabel("Search nodes").fill(dead);
    await expect(page.getByText(/No node matches the filters/)).toBeVisible();
  } catch (e) {
    await deleteNodes(
      page,
      csvHosts.map((h) => h.name),
    );
    csvHosts = [];
    throw e;
  }
});

test("maintenance on and off, move to the other pool, set the boot device", async ({ page }) => {
  expect(csvHosts, "needs the hosts the CSV enrolled (the bulk-enroll test above)").not.toHaveLength(0);
  const h = csvHosts[0]!;
  await loginAs(page, "operatorAdmin", /\/ops$/);
  await openNode(page, h.name);

  await page.getByRole("button", { name: "Maintenance on" }).click();
  const ask = page.getByRole("dialog", { name: "Put the node into maintenance" });
  await ask.getByRole("button", { name: "Start maintenance" }).click();
  await expect(ask.getByText("Say why the node goes into maintenance")).toBeVisible();
  const reason = `swap a DIMM (e2e ${sfx})`;
  await ask.getByLabel("Reason").fill(reason);
  await ask.getByRole("button", { name: "Start maintenance" }).click();
  await expect(ask).toBeHidden();
  await expect(toast(page, `Maintenance on ${h.name}: In maintenance.`)).toBeVisible();
  await expect(status(page, h.name)).toContainText(`In maintenance: ${reason}`);
  await expect(status(page, h.name).getByTitle(`Maintenance: ${reason}`)).toBeVisible();
  // In maintenance the node is not offered to tenants: providing it is refused with the rule's reason.
  const provide = page.getByRole("button", { name: "Provide", exact: true });
  await expect(provide).toHaveAttribute("aria-disabled", "true");
  await expect(provide).toHaveAttribute("title", "The node is in maintenance; end maintenance first.");
  await expect(page.getByRole("table", { name: `Recent events of ${h.name}` })).toContainText(`Maintenance on: ${reason}`);
  await page.getByRole("button", { name: "Maintenance off" }).click();
  await expect(toast(page, `Maintenance off ${h.name}: Maintenance ended.`)).toBeVisible();
  await expect(status(page, h.name)).not.toContainText("In maintenance");
  await expect(provide).not.toHaveAttribute("aria-disabled", "true");

  // Move to the other lab pool: the node and its DPU follow.
  const other = h.pool === "general" ? "gpu" : "general";
  const bmc = page.getByRole("region", { name: "BMC" });
  await expect(bmc).toContainText(`Pool${h.pool}`);
  await page.getByRole("button", { name: "Move to pool" }).click();
  const move = page.getByRole("dialog", { name: "Move the node to a pool" });
  await move.getByRole("button", { name: "Move", exact: true }).click();
  await expect(move.getByLabel("Pool")).toHaveAccessibleDescription("Choose a pool");
  await move.getByLabel("Pool").selectOption({ label: other });
  await move.getByRole("button", { name: "Move", exact: true }).click();
  await expect(toast(page, `Move to pool ${h.name}: Moved to ${other}.`)).toBeVisible();
  await expect(bmc).toContainText(`Pool${other}`);
  await page
    .getByRole("table", { name: `DPUs of ${h.name}` })
    .getByRole("link", { name: `${h.name}-dpu` })
    .click();
  // On the DPU's own page (the host's page shows the same pool, so wait for the DPU's heading before going back).
  await expect(page.getByRole("heading", { name: `${h.name}-dpu`, level: 1 })).toBeVisible();
  await expect(page.getByRole("region", { name: "BMC" })).toContainText(`Pool${other}`);
  await page.goBack();

  // Boot device: what the BMC applied comes back as a toast, and is recorded in the node's events.
  await page.getByRole("button", { name: "Set boot device" }).click();
  const boot = page.getByRole("dialog", { name: `Set boot device of ${h.name}` });
  await boot.getByLabel("Boot device").selectOption("pxe");
  await boot.getByRole("button", { name: "Set boot device" }).click();
  await expect(boot).toBeHidden();
  await expect(toast(page, new RegExp(`^${h.name}: Boot device set to pxe`))).toBeVisible();
  await expect(page.getByRole("table", { name: `Recent events of ${h.name}` })).toContainText(/Boot device set to pxe/);
});

test("a script runs steps on the host's DPU through the API; the operator updates the DPU's firmware", async ({ page }) => {
  expect(csvHosts, "needs the hosts the CSV enrolled (the bulk-enroll test above)").not.toHaveLength(0);
  test.setTimeout(120_000);
  const h = csvHosts[0]!;
  await loginAs(page, "operatorAdmin", /\/ops$/);
  await openNode(page, h.name);
  const host = (await nodeByName(page, h.name))!;
  const dpuName = `${h.name}-dpu`;
  const dpus = page.getByRole("table", { name: `DPUs of ${h.name}` });
  const dpuRow = dpus.getByRole("row").filter({ has: page.getByRole("link", { name: dpuName }) });

  // The DPU takes its power from the host: the host goes on first (from its page).
  if ((await status(page, h.name).getByTitle("Power: on").count()) === 0) {
    await page.getByRole("button", { name: "Power on", exact: true }).click();
    await expect(status(page, h.name).getByTitle("Power: on")).toBeVisible({ timeout: 30_000 });
  }

  // A step asked of the host alone, and a wrong request, the way a script meets them.
  const wrong = await trpcMutation(page, "nodes.runStep", { id: host.id, step: "firmware_update", args: {} });
  expect(wrong.status()).toBe(400);
  expect(await wrong.text()).toContain("A firmware update runs on DPU children and needs an image URL.");

  // Power the DPU off, then on again, as steps on the host's children.
  const run = async (step: "power_on" | "power_off") => {
    const res = await trpcMutation(page, "nodes.runStep", { id: host.id, step, executeOnChildNodes: true });
    expect(res.ok(), `runStep ${step} → ${res.status()}`).toBe(true);
    return (await res.json()).result.data.json as { name: string; ok: boolean; message: string }[];
  };
  await expect(dpuRow.getByTitle(/^Power: (on|off)$/)).toBeVisible({ timeout: 30_000 });
  if ((await dpuRow.getByTitle("Power: on").count()) === 0) {
    expect(await run("power_on")).toEqual([expect.objectContaining({ name: dpuName, ok: true, message: "Power on requested." })]);
    await expect(dpuRow.getByTitle("Power: on")).toBeVisible({ timeout: 30_000 });
  }
  expect(await run("power_off")).toEqual([expect.objectContaining({ name: dpuName, ok: true, message: "Power off requested." })]);
  await expect(dpuRow.getByTitle("Power: off")).toBeVisible({ timeout: 30_000 });
  // The host stayed on: the step ran on its child only.
  await expect(status(page, h.name).getByTitle("Power: on")).toBeVisible();
  // Off now: a second power-off is refused for that DPU with the rule's reason.
  expect(await run("power_off")).toEqual([expect.objectContaining({ name: dpuName, ok: false, message: "It is already off." })]);
  // While off the DPU cannot take an update; the button says why.
  await expect(dpuRow.getByRole("button", { name: `Update firmware/OS of ${dpuName}` })).toHaveAttribute(
    "title",
    "The DPU must be powered on to take an update.",
  );
  expect(await run("power_on")).toEqual([expect.objectContaining({ name: dpuName, ok: true, message: "Power on requested." })]);
  await expect(dpuRow.getByTitle("Power: on")).toBeVisible({ timeout: 30_000 });

  // A firmware run from the UI: the DPU's BMC takes the image, the operation's steps tick by, the new version shows.
  await dpuRow.getByRole("button", { name: `Update firmware/OS of ${dpuName}` }).click();
  const fw = page.getByRole("dialog", { name: `Update firmware/OS of ${dpuName}` });
  await fw.getByLabel("Image URL").fill("http://169.254.169.254/bf-bundle.bfb");
  await fw.getByRole("button", { name: "Start update" }).click();
  await expect(fw.getByText(/not on the management network/)).toBeVisible();
  await fw.getByLabel("Image URL").fill("http://127.0.0.1:9/images/bf-bundle-4.11.0.bfb");
  await fw.getByRole("button", { name: "Start update" }).click();
  await expect(fw).toBeHidden();
  await expect(toast(page, `Update of ${dpuName} started.`)).toBeVisible();
  const op = page.getByRole("region", { name: "Recent operations" }).getByRole("region", { name: `Operation dpu.firmware_update · ${dpuName}` });
  await expect(op.first()).toContainText("succeeded", { timeout: 60_000 });
  await expect(dpuRow).toContainText("DPU_OS 4.11.0", { timeout: 30_000 });
});

test("an IPMI BMC: enroll it, power it on and off, delete it", async ({ page }) => {
  test.setTimeout(180_000);
  const name = ipmiName;
  await loginAs(page, "operatorAdmin", /\/ops$/);
  sim = await startIpmiSim({ initialPower: "off", hostname: name });
  await page.goto("/ops/nodes");
  await expect(page.getByRole("table", { name: "Nodes" }).getByRole("row").nth(1)).toBeVisible();
  await page.getByRole("button", { name: "Enroll node" }).first().click();
  const dialog = page.getByRole("dialog", { name: "Enroll node" });
  await dialog.getByLabel("Name", { exact: true }).fill(name);
  await dialog.getByLabel("BMC driver").selectOption("ipmi");
  await dialog.getByLabel("BMC address").fill(sim.address);
  await dialog.getByLabel("BMC username").fill(sim.username);
  await dialog.getByLabel("BMC password").fill(sim.password);
  await dialog.getByRole("button", { name: "Test connection" }).click();
  await expect(dialog.getByRole("status")).toContainText("Connected", { timeout: 20_000 });
  await dialog.getByRole("button", { name: "Enroll", exact: true }).click();
  // The toast shows on success, while the dialog waits for the list to refresh (it lasts 4 s: checked first).
  await expect(toast(page, `Node ${name} enrolled`)).toBeVisible();
  await expect(dialog).toBeHidden({ timeout: 20_000 });

  await page.getByLabel("Search nodes").fill(name);
  await page.getByRole("table", { name: "Nodes" }).getByRole("link", { name, exact: true }).click();
  await expect(page.getByRole("heading", { name, level: 1 })).toBeVisible();
  await expect(page.getByRole("region", { name: "BMC" })).toContainText("Driveripmi");
  await expect(status(page, name).getByTitle("Power: off")).toBeVisible({ timeout: 30_000 });
  // IPMI has no soft reboot: the BMC's driver said so, and the button is not offered.
  await expect(page.getByRole("button", { name: "Soft reboot" })).toHaveAttribute("aria-disabled", "true");

  await page.getByRole("button", { name: "Power on", exact: true }).click();
  await expect(status(page, name).getByTitle("Power: on")).toBeVisible({ timeout: 30_000 });
  expect(await sim.power()).toBe("on");
  await page.getByRole("button", { name: "Power off", exact: true }).click();
  await confirm(page, `Power off ${name}?`, "Power off");
  await expect(status(page, name).getByTitle("Power: off")).toBeVisible({ timeout: 30_000 });
  expect(await sim.power()).toBe("off");

  await page.getByRole("button", { name: "Delete", exact: true }).click();
  await confirm(page, `Delete node ${name}?`, "Delete node");
  await expect(page).toHaveURL(/\/ops\/nodes$/);
  await expect(toast(page, `Node ${name} deleted.`)).toBeVisible();
  await sim.stop();
  sim = undefined;
});

test("the nodes the CSV enrolled are deleted with their DPUs", async ({ page }) => {
  expect(csvHosts, "the bulk-enroll test above enrolled hosts").not.toHaveLength(0);
  await loginAs(page, "operatorAdmin", /\/ops$/);
  for (const h of csvHosts) {
    await openNode(page, h.name);
    await page.getByRole("button", { name: "Delete", exact: true }).click();
    await confirm(page, `Delete node ${h.name}?`, "Delete node");
    await expect(toast(page, `Node ${h.name} deleted with 1 DPU(s).`)).toBeVisible();
    await expect(page).toHaveURL(/\/ops\/nodes$/);
  }
  for (const h of csvHosts) {
    expect(await nodeByName(page, h.name)).toBeUndefined();
    expect(await nodeByName(page, `${h.name}-dpu`)).toBeUndefined();
  }
});
