// Live BMC events in the browser: a fault logged at a lab BMC (through the Redfish simulator's admin API, as the
// hardware would) shows on the open Events page and on the node's page without a reload, and the node page's event
// log filters it by severity; the node's page says how its events arrive, and after its BMC stops offering an event
// stream (push subscriptions only) says they are pushed and still shows a fault live. Uses an enrolled lab host; the lab manifest is written by scripts/e2e-server.sh.
import fs from "node:fs";
import path from "node:path";
import { expect, test } from "@playwright/test";
import { baseURL } from "../playwright.config";
import { loginAs } from "./helpers";

interface LabManifest {
  redfishAdminUrl: string;
  hosts: { name: string }[];
}

const manifestPath = process.env.ANVIL_LAB_MANIFEST ?? path.resolve("test-results/lab.json");
let lab: LabManifest;
// The last of the 16 hosts the E2E lab enrolls: the other specs take hosts from the front.
let hostName = "";

async function labAdmin(method: string, bmcPath: string, body?: unknown) {
  const url = `${lab.redfishAdminUrl}/admin/bmcs/${bmcPath}`;
  const res = await fetch(url, { method, headers: body ? { "content-type": "application/json" } : {}, body: body ? JSON.stringify(body) : undefined });
  expect(res.ok, `${method} ${url} → ${res.status}`).toBe(true);
}

test.beforeAll(async () => {
  // The server answers /login before its lab is up (enrolled and inspected): /readyz says when it is, when this spec
  // runs first.
  test.setTimeout(240_000);
  for (let i = 0; i < 220; i++) {
    const ready = await fetch(`${baseURL}/readyz`).then(
      (r) => r.ok,
      () => false,
    );
    if (ready && fs.existsSync(manifestPath)) break;
    await new Promise((r) => setTimeout(r, 1000));
  }
  if (!fs.existsSync(manifestPath)) throw new Error(`No lab manifest at ${manifestPath}: the E2E server must start the lab and write it there.`);
  lab = JSON.parse(fs.readFileSync(manifestPath, "utf8")) as LabManifest;
  expect(lab.hosts.length, "the lab enrolls 16 hosts").toBeGreaterThanOrEqual(16);
  hostName = lab.hosts[15]!.name;
});

test.afterAll(async () => {
  // The SEL entry raised the BMC's health to warning: leave the lab healthy (and streaming) for what runs next.
  if (lab && hostName) await labAdmin("DELETE", `${encodeURIComponent(hostName)}/faults`).catch(() => {});
  if (lab && hostName) await labAdmin("PUT", `${encodeURIComponent(hostName)}/dialect`, { sse: true }).catch(() => {});
});

test("a fault logged at a BMC appears on the open Events page and node page without a reload, filtered by severity", async ({ page }) => {
  await loginAs(page, "operatorAdmin");
  await page.getByRole("link", { name: "Events", exact: true }).click();
  const events = page.getByRole("table", { name: "Events" });
  await expect(events.getByRole("row").nth(1)).toBeVisible(); // loaded, so interactive (and listening)

  const message = `Fan ${Date.now() % 100000} below lower critical threshold.`;
  await labAdmin("POST", `${encodeURIComponent(hostName)}/sel`, { Severity: "Warning", Message: message, SensorType: "Fan", MessageId: "OpenBMC.0.1.FanLow" });
  // Exactly the SEL entry (the health change it caused quotes it: "Health ok → warning: <message>").
  const row = events.getByRole("row").filter({ has: page.getByRole("cell", { name: message, exact: true }) });
  await expect(row).toBeVisible();
  await expect(row).toContainText(hostName);
  await expect(row).toContainText("sel");

  // The node's page: its event log shows the entry, and the severity filter keeps or hides it.
  await row.getByRole("link", { name: hostName }).click();
  const log = page.getByRole("region", { name: "Event log" });
  await expect(log.getByText("live stream (SSE)")).toBeVisible();
  const entry = log.getByRole("row").filter({ has: page.getByRole("cell", { name: message, exact: true }) });
  await expect(entry).toBeVisible();
  await log.getByRole("checkbox", { name: "critical" }).check();
  await expect(entry).toHaveCount(0);
  await log.getByRole("checkbox", { name: "warning" }).check();
  await expect(entry).toBeVisible();
  await log.getByLabel("Kind").selectOption("sel");
  await expect(entry).toBeVisible();

  // A second entry while the node's page is open arrives there too, without a reload.
  const second = `PSU2 input lost (${Date.now() % 100000}).`;
  await labAdmin("POST", `${encodeURIComponent(hostName)}/sel`, {
    Severity: "Warning",
    Message: second,
    SensorType: "Power Supply / Converter",
    MessageId: "OpenBMC.0.1.PowerSupplyInputLost",
  });
  await expect(log.getByRole("row").filter({ has: page.getByRole("cell", { name: second, exact: true }) })).toBeVisible();
});

test("a BMC without an event stream pushes its events: the node page says so and shows a fault without a reload", async ({ page }) => {
  const bmc = encodeURIComponent(hostName);
  await loginAs(page, "operatorAdmin");
  await page.goto("/ops/nodes");
  await page.getByRole("link", { name: hostName, exact: true }).click();
  const log = page.getByRole("region", { name: "Event log" });
  await expect(log.getByText("Events arrive by")).toBeVisible();
  // The BMC stops offering its stream (as after a firmware change) and drops the open one: Anvil subscribes instead.
  await labAdmin("PUT", `${bmc}/dialect`, { sse: false });
  await labAdmin("PUT", `${bmc}/faults`, { unreachable: true });
  await new Promise((r) => setTimeout(r, 500));
  await labAdmin("DELETE", `${bmc}/faults`);
  await expect(async () => {
    await page.reload();
    await expect(log.getByText("pushed by the BMC")).toBeVisible({ timeout: 2000 });
  }).toPass({ timeout: 30_000 });
  const message = `Fan ${Date.now() % 100000} failed (pushed).`;
  await labAdmin("POST", `${bmc}/sel`, { Severity: "Critical", Message: message, SensorType: "Fan", MessageId: "OpenBMC.0.1.FanFailed" });
  await expect(log.getByRole("row").filter({ has: page.getByRole("cell", { name: message, exact: true }) })).toBeVisible();
});
