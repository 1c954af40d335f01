// E2E: hardware management through the operator console, against the real server and the lab beside it
// (Redfish BMC simulator + DPU agents + storage). The E2E server writes the lab manifest to
// test-results/lab.json (or $ANVIL_LAB_MANIFEST) with some hosts left unenrolled for this spec to enroll.
// Steps run in order on one lab: enroll by URL → inspect (DPU appears as a child) → power off/on watched
// live → bulk power with per-node results → a BMC fault injected in the lab shows as a node fault and an event.
import fs from "node:fs";
import path from "node:path";
import { expect, type Page, test } from "@playwright/test";
import { asServed, confirm, loginAs, toast } from "./helpers";

interface LabHost {
  name: string;
  bmc_address: string;
  bmc_username: string;
  bmc_password: string;
  verify_tls: boolean;
  dpu_bmc_address: string | null;
}
interface LabManifest {
  redfishAdminUrl: string;
  hosts: LabHost[];
}

const manifestPath = process.env.ANVIL_LAB_MANIFEST ?? path.resolve("test-results/lab.json");

function readLab(): LabManifest {
  if (!fs.existsSync(manifestPath)) throw new Error(`No lab manifest at ${manifestPath}: the E2E server must start the lab and write it there.`);
  return JSON.parse(fs.readFileSync(manifestPath, "utf8")) as LabManifest;
}

/** Waits until the Nodes list has loaded its data (fetched in the browser, so the page is interactive). */
async function nodesLoaded(page: Page) {
  const table = page.getByRole("table", { name: "Nodes" });
  await expect(
    table
      .getByRole("row")
      .nth(1)
      .or(page.getByText(/No node/)),
  ).toBeVisible();
}

/** Filters the Nodes list to one name; true when the node is enrolled. */
async function isEnrolled(page: Page, name: string): Promise<boolean> {
  const table = page.getByRole("table", { name: "Nodes" });
  await nodesLoaded(page);
  await page.getByLabel("Search nodes").fill(name);
  await expect(page.getByLabel("Search nodes")).toHaveValue(name);
  const row = table.getByRole("link", { name, exact: true });
  const none = page.getByText(/No node matches the filters/);
  await expect(row.or(none)).toBeVisible();
  return row.isVisible();
}

/** Injects (or clears, with null) a fault on a lab BMC through the simulator's admin API. */
async function setLabFault(lab: LabManifest, bmcId: string, faults: Record<string, unknown> | null) {
  const url = `${lab.redfishAdminUrl}/admin/bmcs/${encodeURIComponent(bmcId)}/faults`;
  const res = faults
    ? await fetch(url, { method: "PUT", headers: { "content-type": "application/json" }, body: JSON.stringify(faults) })
    : await fetch(url, { method: "DELETE" });
  expect(res.ok, `${faults ? "PUT" : "DELETE"} ${url} → ${res.status}`).toBe(true);
}

test.describe.configure({ mode: "serial" });

let lab: LabManifest;
let host: LabHost; // the node this spec enrolls
let hostUrl = ""; // its detail page

test.beforeAll(() => {
  lab = readLab();
  expect(lab.hosts.length, "the lab has hosts").toBeGreaterThan(3);
});

test.afterAll(async () => {
  // Leave the lab healthy for whatever runs next.
  if (lab && host) await setLabFault(lab, host.name, null).catch(() => {});
});

test("enroll a lab node by its BMC URL, inspect it, and see its DPU as a child", async ({ page }) => {
  await loginAs(page, "operatorAdmin");
  await page.getByRole("link", { name: "Nodes", exact: true }).click();
  await expect(page.getByRole("heading", { name: "Nodes" })).toBeVisible();

  // The first lab host (from the end) that is not enrolled yet, with a DPU.
  let found: LabHost | undefined;
  for (const h of [...lab.hosts].reverse().filter((x) => x.dpu_bmc_address)) {
    if (!(await isEnrolled(page, h.name))) {
      found = h;
      break;
    }
  }
  expect(found, "the lab manifest leaves at least one host with a DPU unenrolled").toBeTruthy();
  host = found!;

  await page.getByRole("button", { name: "Enroll node" }).first().click();
  const dialog = page.getByRole("dialog", { name: "Enroll node" });
  await dialog.getByLabel("Name", { exact: true }).fill(host.name);
  // A wrong address is refused on the field and nothing is enrolled.
  await dialog.getByLabel("BMC address").fill("not a url");
  await dialog.getByLabel("BMC username").fill(host.bmc_username);
  await dialog.getByLabel("BMC password").fill(host.bmc_password);
  await dialog.getByRole("button", { name: "Enroll", exact: true }).click();
  await expect(dialog.getByText(/Enter the BMC's base URL/)).toBeVisible();

  // An address off the management network (the cloud metadata address) is refused before anything is contacted.
  await dialog.getByLabel("BMC address").fill("http://169.254.169.254");
  await dialog.getByRole("button", { name: "Test connection" }).click();
  await expect(dialog.getByRole("status")).toContainText("169.254.169.254 is not on the management network allowed by ANVIL_MGMT_ALLOW");

  await dialog.getByLabel("BMC address").fill(host.bmc_address);
  if (!host.verify_tls) await dialog.getByLabel("Verify TLS certificate").uncheck();
  await dialog.getByRole("button", { name: "Test connection" }).click();
  await expect(dialog.getByRole("status")).toContainText("Connected");
  await dialog.getByRole("button", { name: "Enroll", exact: true }).click();
  await expect(dialog).toBeHidden();
  await expect(toast(page, `Node ${host.name} enrolled`)).toBeVisible();
  // The list's first page is rendered on the server: its rows are there before any script runs.
  await asServed(page, "/ops/nodes", async (served) => {
    await expect(served.getByRole("table", { name: "Nodes" }).getByRole("link").first()).toBeVisible();
  });

  await page.getByRole("table", { name: "Nodes" }).getByRole("link", { name: host.name, exact: true }).click();
  await expect(page.getByRole("heading", { name: host.name, level: 1 })).toBeVisible();
  hostUrl = page.url();
  // Credentials show only as a fingerprint, never the password.
  await expect(page.getByRole("region", { name: "BMC" })).toContainText(/set · fingerprint/);
  await expect(page.getByRole("region", { name: "BMC" })).not.toContainText(host.bmc_password);

  await page.getByRole("button", { name: "Inspect" }).click();
  const dpus = page.getByRole("table", { name: `DPUs of ${host.name}` });
  await expect(dpus.getByRole("link").first()).toBeVisible({ timeout: 30_000 });
  await expect(page.getByRole("region", { name: "Inventory" })).toContainText("Memory");
  await expect(page.getByRole("region", { name: "Recent operations" })).toContainText("node.inspect");

  // The DPU's own page links back to its host and leaves out host-only actions.
  await dpus.getByRole("link").first().click();
  await expect(page.getByRole("navigation", { name: "Breadcrumb" }).getByRole("link", { name: host.name })).toBeVisible();
  await expect(page.getByRole("button", { name: "Inspect" })).toHaveCount(0);
  await expect(page.getByRole("button", { name: "Update firmware/OS" })).toBeVisible();
});

test("power the node on and off and watch the state change without a reload", async ({ page }) => {
  await loginAs(page, "operatorAdmin");
  await page.goto(hostUrl);
  const status = page.getByRole("region", { name: `Status of ${host.name}` });
  await expect(status).toBeVisible();
  const powerOn = page.getByRole("button", { name: "Power on", exact: true });
  const powerOff = page.getByRole("button", { name: "Power off", exact: true });

  if ((await status.getByTitle("Power: on").count()) === 0) {
    await powerOn.click();
    await expect(status.getByTitle("Power: on")).toBeVisible({ timeout: 30_000 });
  }
  await powerOff.click();
  // Cutting the power asks first.
  await confirm(page, `Power off ${host.name}?`, "Power off");
  await expect(status.getByTitle("Power: off")).toBeVisible({ timeout: 30_000 });
  // Now off: powering off again is refused with the rule's reason, shown on the button.
  await expect(powerOff).toHaveAttribute("aria-disabled", "true");
  await expect(powerOff).toHaveAttribute("title", "It is already off.");
  await powerOn.click();
  await expect(status.getByTitle("Power: on")).toBeVisible({ timeout: 30_000 });
  await expect(page.getByRole("region", { name: "Recent operations" })).toContainText("node.power");
});

test("bulk power three nodes and read the per-node results", async ({ page }) => {
  await loginAs(page, "operatorAdmin");
  await page.getByRole("link", { name: "Nodes", exact: true }).click();
  await nodesLoaded(page);
  await page.getByLabel("Fault", { exact: true }).selectOption("no");
  await page.getByLabel("State", { exact: true }).selectOption("available");
  await expect(page.getByLabel("State", { exact: true })).toHaveValue("available");
  const table = page.getByRole("table", { name: "Nodes" });
  // The filtered list has arrived: every row shown is available.
  await expect(table.getByTitle("State: available").first()).toBeVisible();
  await expect(table.getByTitle(/^State: (?!available)/)).toHaveCount(0);
  const boxes = table.getByRole("checkbox", { name: /^Select (?!all)/ });
  await expect(boxes.nth(2)).toBeVisible();
  const names: string[] = [];
  for (let i = 0; i < 3; i++) {
    const label = (await boxes.nth(i).getAttribute("aria-label"))!;
    names.push(label.replace(/^Select /, ""));
    await boxes.nth(i).check();
  }
  const bar = page.getByRole("toolbar", { name: "Bulk actions" });
  await expect(bar).toContainText("3 selected");

  // Power them on first (nodes already on are refused, per node, and say so).
  await bar.getByRole("button", { name: "Power on" }).click();
  let results = page.getByRole("dialog", { name: "Power on: results" });
  await expect(results.getByRole("table", { name: "Per-node results" }).getByRole("row")).toHaveCount(4);
  await results.getByRole("button", { name: "Close" }).click();
  for (const n of names) {
    const row = table.getByRole("row").filter({ has: page.getByRole("link", { name: n, exact: true }) });
    await expect(row.getByTitle("Power: on")).toBeVisible({ timeout: 30_000 });
  }

  for (const n of names) await table.getByRole("checkbox", { name: `Select ${n}` }).check();
  await bar.getByRole("button", { name: "Power off" }).click();
  const confirm = page.getByRole("dialog", { name: "Power off 3 nodes?" });
  for (const n of names) await expect(confirm).toContainText(n);
  await confirm.getByRole("button", { name: "Power off" }).click();
  results = page.getByRole("dialog", { name: "Power off: results" });
  const rows = results.getByRole("table", { name: "Per-node results" }).getByRole("row");
  await expect(rows).toHaveCount(4);
  for (const n of names) {
    const r = rows.filter({ hasText: n });
    await expect(r).toContainText("ok");
    await expect(r).toContainText("Power off requested.");
  }
  await expect(results).toContainText("3 of 3 succeeded");
  await results.getByRole("button", { name: "Close" }).click();
  // The list follows the BMCs: all three go off without a reload.
  for (const n of names) {
    const row = table.getByRole("row").filter({ has: page.getByRole("link", { name: n, exact: true }) });
    await expect(row.getByTitle("Power: off")).toBeVisible({ timeout: 30_000 });
  }
});

test("a BMC that stops answering marks its node faulted, with the reason and an event", async ({ page }) => {
  test.setTimeout(150_000); // the power/health sync polls every BMC on its interval
  await loginAs(page, "operatorAdmin");
  await setLabFault(lab, host.name, { unreachable: true });

  await page.getByRole("link", { name: "Nodes", exact: true }).click();
  await nodesLoaded(page);
  await page.getByLabel("Search nodes").fill(host.name);
  const row = page
    .getByRole("table", { name: "Nodes" })
    .getByRole("row")
    .filter({ has: page.getByRole("link", { name: host.name, exact: true }) });
  await expect(row.getByTitle(/^Fault:/)).toBeVisible({ timeout: 120_000 });
  const reason = (await row.getByTitle(/^Fault:/).getAttribute("title"))!.replace(/^Fault: /, "");
  expect(reason.length).toBeGreaterThan(5);
  await expect(row).toContainText(reason);

  // The Overview lists it under faults needing attention, linking to the node.
  await page.getByRole("link", { name: "Overview", exact: true }).click();
  await expect(page.getByRole("region", { name: "Faults needing attention" }).getByRole("link", { name: host.name })).toBeVisible();

  await page.getByRole("link", { name: "Events", exact: true }).click();
  const events = page.getByRole("table", { name: "Events" });
  await expect(events.getByRole("row").nth(1)).toBeVisible(); // loaded, so interactive
  await page.getByLabel("Search events by node name or message").fill(host.name);
  await page.getByRole("checkbox", { name: "critical" }).check();
  await page.getByLabel("Kind").selectOption("fault");
  await expect(
    events
      .getByRole("row")
      .filter({ hasText: `Fault: ${reason}` })
      .first(),
  ).toBeVisible({ timeout: 15_000 });

  // Repaired in the lab: the fault clears by itself on the next sync.
  await setLabFault(lab, host.name, null);
  await page.goto(hostUrl);
  await expect(page.getByRole("region", { name: `Status of ${host.name}` }).getByTitle(/^Fault:/)).toHaveCount(0, { timeout: 120_000 });
});
