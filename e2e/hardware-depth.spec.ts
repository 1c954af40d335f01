// E2E: a host's BIOS settings, against the real production server and a lab Redfish BMC this spec starts beside it
// (real HTTP on 127.0.0.1). An operator enrolls the host (through the app's API; the enroll dialog has its own
// spec), opens its page and reads the BIOS attributes from the BMC; edits them in the dialog, where a value outside
// the registry's limits is a field error; saves, sees the change pending "at next reboot"; powers the host on from
// the page and sees the change applied without a reload. An unknown attribute sent by a script is refused with the
// reason and changes nothing; an operator viewer reads but cannot edit. Inspection reads the host's firmware
// inventory, shown on its page; traits set on the page are normalized (placement by traits is proven against
// Postgres in server/api/routers/traits.test.ts). The node is deleted at the end.
import { expect, type Page, test } from "@playwright/test";
import { type RedfishSim, startRedfishSim } from "../sim/redfish";
import { demoImagesReady, loginAs, selectMatching, toast } from "./helpers";

test.describe.configure({ mode: "serial" });

let sim: RedfishSim;
let nodeId = "";
let page: Page;
const sfx = Math.random().toString(36).slice(2, 7);
const nodeName = `bios-e2e-${sfx}`;

/** A tRPC query as a script makes it, with the page's session. */
async function trpcQuery<T>(p: Page, proc: string, input: unknown): Promise<T> {
  const res = await p.request.get(`/api/trpc/${proc}?input=${encodeURIComponent(JSON.stringify({ json: input }))}`);
  expect(res.ok(), `${proc} → ${res.status()}`).toBe(true);
  return (await res.json()).result.data.json as T;
}

async function trpcMutation(p: Page, proc: string, input: unknown) {
  const res = await p.request.post(`/api/trpc/${proc}`, { data: { json: input } });
  expect(res.ok(), `${proc} → ${res.status()} ${await res.text()}`).toBe(true);
}

test.beforeAll(async ({ browser }) => {
  sim = await startRedfishSim({ hosts: 1, dpuEvery: 0, powerTransitionMs: 200, bootMs: 500, allBootable: true });
  page = await browser.newPage();
  await loginAs(page, "operatorAdmin", /\/ops$/);
  const bmc = sim.byId("node-0001")!;
  const res = await page.request.post("/api/trpc/nodes.enroll", {
    data: { json: { name: nodeName, driver: "redfish", address: bmc.url, username: bmc.username, password: bmc.password, verifyTls: false } },
  });
  expect(res.ok(), await res.text()).toBe(true);
  nodeId = (await res.json()).result.data.json.nodeId;
});

test.afterAll(async () => {
  if (nodeId) await page.request.post("/api/trpc/nodes.delete", { data: { json: { id: nodeId } } });
  await page?.close();
  await sim?.close();
});

const bios = () => page.getByRole("table", { name: `BIOS settings of ${nodeName}` });
const row = (label: string) => bios().getByRole("row").filter({ hasText: label });

test("an operator edits BIOS settings: a bad value is a field error, a good one is pending until the host powers on", async () => {
  test.setTimeout(120_000);
  await page.goto(`/ops/nodes/${nodeId}`);
  await expect(page.getByRole("heading", { name: nodeName, level: 1 })).toBeVisible();
  await expect(row("System Profile")).toContainText("PerfPerWattOptimizedOs");
  await expect(row("PXE Retry Count")).toContainText("3");

  await page.getByRole("button", { name: "Edit BIOS settings" }).click();
  const dialog = page.getByRole("dialog", { name: `BIOS settings of ${nodeName}` });
  await dialog.getByLabel("PXE Retry Count").fill("42");
  await dialog.getByRole("button", { name: "Save (applies at next reboot)" }).click();
  await expect(dialog.getByText("PXE Retry Count must be from 0 to 10.")).toBeVisible();
  await dialog.getByLabel("PXE Retry Count").fill("6");
  await dialog.getByLabel("System Profile").selectOption("PerfOptimized");
  await dialog.getByRole("button", { name: "Save (applies at next reboot)" }).click();
  await expect(toast(page, /they apply at its next reboot/)).toBeVisible();
  await expect(dialog).toBeHidden();

  await expect(page.getByText("2 changes are pending: they apply at the next reboot or power-on.")).toBeVisible();
  await expect(row("System Profile")).toContainText("PerfOptimized at next reboot");
  await expect(row("PXE Retry Count")).toContainText("6 at next reboot");
  // Still in effect until the firmware reads them.
  await expect(row("System Profile").getByRole("cell").nth(1)).toHaveText("PerfPerWattOptimizedOs");

  const powerOn = page.getByRole("button", { name: "Power on", exact: true });
  await expect(powerOn).not.toHaveAttribute("aria-disabled", "true", { timeout: 30_000 });
  await powerOn.click();
  await expect(row("System Profile").getByRole("cell").nth(1)).toHaveText("PerfOptimized", { timeout: 30_000 });
  await expect(row("PXE Retry Count").getByRole("cell").nth(1)).toHaveText("6");
  await expect(page.getByText(/changes? (is|are) pending/)).toHaveCount(0);
  await expect(bios().getByText("at next reboot")).toHaveCount(0);
});

test("inspection reads the host's firmware inventory (BMC, BIOS, NIC) and the node page shows it", async () => {
  const res = await page.request.post("/api/trpc/nodes.inspect", { data: { json: { ids: [nodeId] } } });
  expect(res.ok(), await res.text()).toBe(true);
  await page.goto(`/ops/nodes/${nodeId}`);
  const inventory = page.getByRole("region", { name: "Inventory" });
  await expect(inventory).toContainText("BMC_Firmware 2.14.3", { timeout: 30_000 });
  await expect(inventory).toContainText("BIOS 2.19.1");
  await expect(inventory).toContainText("NIC_Slot_1 22.41.1000");
});

test("a host firmware update: an image off the management network is refused on its field; BIOS updated, the page shows it", async () => {
  test.setTimeout(120_000);
  await page.goto(`/ops/nodes/${nodeId}`);
  const update = page.getByRole("button", { name: "Update firmware", exact: true });
  // Not while the inspection above is still finishing (the same rule as the server's).
  await expect(update).not.toHaveAttribute("aria-disabled", "true", { timeout: 30_000 });
  await update.click();
  const dialog = page.getByRole("dialog", { name: `Update firmware of ${nodeName}` });
  await dialog.getByLabel("Image URL").fill("http://169.254.169.254/bios-2.20.0.bin");
  await dialog.getByRole("button", { name: "Start update" }).click();
  await expect(dialog.getByText(/169\.254/).first()).toBeVisible();
  await dialog.getByLabel("Image URL").fill("http://127.0.0.1:9/bios-2.20.0.bin");
  await dialog.getByRole("checkbox", { name: /BIOS/ }).check();
  await dialog.getByRole("button", { name: "Start update" }).click();
  await expect(dialog).toBeHidden();
  const inventory = page.getByRole("region", { name: "Inventory" });
  await expect(inventory).toContainText("BIOS 2.20.0", { timeout: 60_000 });
  await expect(inventory).toContainText("BMC_Firmware 2.14.3");
});

test("an operator labels the host with traits: normalized on save, a malformed one is a field error", async () => {
  await page.goto(`/ops/nodes/${nodeId}`);
  const bmc = page.getByRole("region", { name: "BMC" });
  await bmc.getByRole("button", { name: "Edit traits" }).click();
  const dialog = page.getByRole("dialog", { name: `Traits of ${nodeName}` });
  await dialog.getByLabel("Traits").fill("custom-gpu, 9lives");
  await dialog.getByRole("button", { name: "Save traits" }).click();
  await expect(dialog.getByText(/"9lives" is not a trait/)).toBeVisible();
  await dialog.getByLabel("Traits").fill("custom-gpu hw_cpu_x86_avx2");
  await dialog.getByRole("button", { name: "Save traits" }).click();
  await expect(toast(page, `Traits of ${nodeName} saved.`)).toBeVisible();
  await expect(bmc.getByText("CUSTOM_GPU", { exact: true })).toBeVisible();
  await expect(bmc.getByText("HW_CPU_X86_AVX2", { exact: true })).toBeVisible();
});

test("an unknown attribute is refused with the reason and nothing changes; a viewer cannot edit", async ({ browser }) => {
  const res = await page.request.post("/api/trpc/nodeBios.set", { data: { json: { id: nodeId, attributes: { HyperDrive: "Enabled" } } } });
  expect(res.status()).toBe(400);
  expect(await res.text()).toContain('no BIOS attribute \\"HyperDrive\\"');
  await page.reload();
  await expect(row("System Profile")).toContainText("PerfOptimized");
  await expect(page.getByText(/changes? (is|are) pending/)).toHaveCount(0);

  const viewer = await browser.newPage();
  await loginAs(viewer, "operatorViewer", /\/ops$/);
  await viewer.goto(`/ops/nodes/${nodeId}`);
  await expect(viewer.getByRole("table", { name: `BIOS settings of ${nodeName}` })).toContainText("PerfOptimized");
  await expect(viewer.getByRole("button", { name: "Edit BIOS settings" })).toHaveAttribute("aria-disabled", "true");
  await viewer.close();
});

test("an instance asking for a trait lands on the one host that has it, not on the first free one", async ({ browser }) => {
  test.setTimeout(300_000);
  const trait = `CUSTOM_E2E_${sfx.toUpperCase()}`;
  const pools = await trpcQuery<{ items: { id: string; name: string }[] }>(page, "pools.list", { limit: 50 });
  const general = pools.items.find((p) => p.name === "general")!;
  const tenant = await browser.newPage();
  await loginAs(tenant, "acmeAdmin");
  await demoImagesReady(tenant);
  const free = await trpcQuery<{ items: { id: string; name: string }[] }>(page, "nodes.list", {
    poolId: general.id,
    state: "available",
    kind: "host",
    sort: "name",
    limit: 50,
  });
  expect(free.items.length, "two free hosts in the general pool").toBeGreaterThanOrEqual(2);
  // The last free host by name: without the trait the scheduler would take the first.
  const target = free.items[free.items.length - 1]!;
  await trpcMutation(page, "traits.setNode", { id: target.id, traits: [trait] });
  const name = `traits-${sfx}`;
  let instanceId = "";
  try {
    await tenant.goto("/t/acme/instances/new");
    await tenant.getByLabel("Name", { exact: true }).fill(name);
    await tenant
      .getByRole("radiogroup", { name: "Pool" })
      .getByRole("radio", { name: /^general\b/ })
      .check();
    await tenant.getByRole("checkbox", { name: trait }).check();
    await selectMatching(tenant.getByLabel("Image"), /debian-12/);
    await tenant.getByLabel("Subnet").selectOption({ index: 1 });
    await tenant.getByRole("button", { name: "Create instance" }).click();
    await expect(tenant).toHaveURL(/\/t\/acme\/instances\/[0-9a-f-]{36}$/);
    instanceId = tenant.url().split("/").pop()!;
    await expect(async () => {
      const r = await trpcQuery<{ items: { id: string; nodeName: string | null }[] }>(page, "instances.adminList", { q: name, limit: 10 });
      expect(r.items.find((i) => i.id === instanceId)?.nodeName).toBe(target.name);
    }).toPass({ timeout: 120_000, intervals: [1000] });
  } finally {
    if (instanceId) {
      // A tenant deletes a running (or failed) instance: wait for the create to end first.
      await expect(async () => {
        const r = await trpcQuery<{ items: { id: string; state: string }[] }>(page, "instances.adminList", { q: name, limit: 10 });
        expect(["running", "failed"]).toContain(r.items.find((i) => i.id === instanceId)?.state);
      }).toPass({ timeout: 150_000, intervals: [2000] });
      await trpcMutation(tenant, "instances.delete", { tenant: "acme", id: instanceId });
      // Gone before the next spec counts acme's quota.
      await expect(async () => {
        const r = await trpcQuery<{ items: { id: string }[] }>(page, "instances.adminList", { q: name, limit: 10 });
        expect(r.items.filter((i) => i.id === instanceId)).toEqual([]);
      }).toPass({ timeout: 120_000, intervals: [2000] });
    }
    await trpcMutation(page, "traits.setNode", { id: target.id, traits: [] });
    await tenant.close();
  }
});
