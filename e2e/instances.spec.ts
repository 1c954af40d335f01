// E2E: tenant self-provisioning in a real browser against the production server and its lab (BMCs, storage, DPU
// agents). A tenant creates an instance and watches it reach running with its address, attaches a volume, takes a
// backup, rebuilds it, opens its console (login prompt, typed echo), and deletes it — after which the host is back
// in the pool. Then the lab makes an instance's host fail and the instance comes back on another host with the same
// address, which the operator sees on the Instances page. Another tenant's member gets nothing of it, and console
// refusals (another tenant's instance, a DPU) come with their reason.
import fs from "node:fs";
import path from "node:path";
import { expect, type Page, test } from "@playwright/test";
import { createInstance, loginAs, selectMatching } from "./helpers";

test.describe.configure({ mode: "serial" });

const manifestPath = process.env.ANVIL_LAB_MANIFEST ?? path.resolve("test-results/lab.json");
const lab = () => JSON.parse(fs.readFileSync(manifestPath, "utf8")) as { redfishAdminUrl: string };
const suffix = Math.random().toString(36).slice(2, 6);

async function labFault(bmcId: string, faults: Record<string, unknown> | null) {
  const url = `${lab().redfishAdminUrl}/admin/bmcs/${encodeURIComponent(bmcId)}/faults`;
  const res = faults
    ? await fetch(url, { method: "PUT", headers: { "content-type": "application/json" }, body: JSON.stringify(faults) })
    : await fetch(url, { method: "DELETE" });
  expect(res.ok, `${url} → ${res.status}`).toBe(true);
}

/** Opens a console WebSocket from the page (its session cookie, its origin) and returns how the proxy closed it. */
async function consoleRefusal(page: Page, path: string): Promise<{ code: number; reason: string }> {
  return page.evaluate(
    (p) =>
      new Promise<{ code: number; reason: string }>((resolve) => {
        const ws = new WebSocket(`${location.protocol === "https:" ? "wss" : "ws"}://${location.host}${p}`);
        let reason = "";
        ws.onmessage = (e) => {
          if (typeof e.data !== "string") return;
          const m = JSON.parse(e.data) as { type?: string; state?: string; reason?: string };
          if (m.type === "status" && m.state === "closed" && m.reason) reason = m.reason;
        };
        ws.onclose = (e) => resolve({ code: e.code, reason: reason || e.reason });
      }),
    path,
  );
}

const details = (page: Page) => page.getByRole("region", { name: "Instance details" });
const latestOp = (page: Page) => page.getByRole("region", { name: "Latest operation" });

test("a tenant creates an instance and watches it reach running, with its address", async ({ page }) => {
  test.setTimeout(120_000);
  await loginAs(page, "acmeAdmin");
  // A bad user-data is a field error before anything is created.
  await page.goto("/t/acme/instances/new");
  await page.getByLabel("Name", { exact: true }).fill(`bad-${suffix}`);
  await page.getByLabel("User data (cloud-init)").fill("#cloud-config\nfoo: [unclosed\n");
  await page.getByRole("button", { name: "Create instance" }).click();
  await expect(page.getByText(/Not valid YAML/)).toBeVisible();

  await createInstance(page, `web-${suffix}`, { pool: "general", userData: "#cloud-config\npackages: [nginx]\n" });
  // Live progress: the steps tick by without a reload, then the state turns running.
  await expect(latestOp(page).getByText("reserve node")).toBeVisible();
  await expect(details(page).getByTitle(/^State: running/)).toBeVisible({ timeout: 60_000 });
  await expect(latestOp(page)).toContainText("succeeded");
  await expect(page.getByTestId("instance-address")).toHaveText(/^10\.20\.1\.\d+$/);
  await page.goto("/t/acme/instances");
  await expect(page.getByRole("table", { name: "Instances" }).getByRole("row", { name: new RegExp(`web-${suffix}`) })).toContainText("running");
});

test("attach a volume, back up, rebuild (same address), use the console, delete: the host returns to the pool", async ({ page, browser }) => {
  test.setTimeout(240_000);
  await loginAs(page, "acmeAdmin");
  // A data volume to attach.
  await page.goto("/t/acme/volumes");
  await page.getByRole("button", { name: "Create volume" }).click();
  const dlg = page.getByRole("dialog");
  await dlg.getByLabel("Name").fill(`data-${suffix}`);
  await dlg.getByLabel("Size (GiB)").fill("1");
  await dlg.getByRole("button", { name: "Create volume" }).click();
  await expect(page.getByRole("table", { name: "Volumes" })).toContainText(`data-${suffix}`);

  await page.goto("/t/acme/instances");
  await page.getByRole("link", { name: `web-${suffix}` }).click();
  await expect(details(page).getByTitle(/^State: running/)).toBeVisible();
  const address = (await page.getByTestId("instance-address").textContent())!;

  // Host as the operator sees it (tenants never see host names).
  const ops = await browser.newPage();
  await loginAs(ops, "operatorAdmin", /\/ops$/);
  await ops.goto("/ops/instances");
  const opsRow = ops.getByRole("table", { name: "All instances" }).getByRole("row", { name: new RegExp(`web-${suffix}`) });
  await expect(opsRow).toBeVisible();
  const hostLink = opsRow.getByRole("link");
  const hostName = (await hostLink.textContent())!;
  const hostHref = (await hostLink.getAttribute("href"))!;

  await page.getByRole("button", { name: "Attach volume" }).click();
  await selectMatching(page.getByRole("dialog").getByLabel("Volume"), new RegExp(`data-${suffix}`));
  await page.getByRole("dialog").getByRole("button", { name: "Attach" }).click();
  await expect(page.getByRole("table", { name: "Attached volumes" })).toContainText(`data-${suffix}`);
  await expect(latestOp(page)).toContainText(/instance\.attach_volume.*succeeded/);
  await expect(details(page).getByTitle(/^State: running/)).toBeVisible(); // hot-plug: it kept running

  await page.getByRole("button", { name: "Back up" }).click();
  await page.getByRole("dialog").getByLabel("Image name").fill(`web-${suffix}-backup`);
  await page.getByRole("dialog").getByRole("button", { name: "Back up" }).click();
  await expect(latestOp(page)).toContainText(/instance\.backup.*succeeded/, { timeout: 60_000 });

  await page.getByRole("button", { name: "Rebuild" }).click();
  await selectMatching(page.getByRole("dialog").getByLabel("Image"), new RegExp(`web-${suffix}-backup`));
  await page.getByRole("dialog").getByRole("button", { name: "Continue" }).click();
  await expect(page.getByRole("dialog")).toContainText(`Rebuild web-${suffix}?`);
  await page.getByRole("dialog").getByRole("button", { name: "Rebuild" }).click();
  await expect(latestOp(page)).toContainText(/instance\.rebuild.*succeeded/, { timeout: 90_000 });
  await expect(details(page).getByTitle(/^State: running/)).toBeVisible();
  await expect(page.getByTestId("instance-address")).toHaveText(address);

  // The console of its host: the login prompt, and what we type comes back.
  await page.getByRole("link", { name: "Console" }).click();
  await expect(page.getByRole("heading", { name: `Console: web-${suffix}` })).toBeVisible();
  await expect(page.getByText("Connected", { exact: true })).toBeVisible({ timeout: 20_000 });
  const screen = page.locator(".xterm-rows");
  await page.locator(".xterm-helper-textarea").focus();
  await page.keyboard.press("Enter"); // a fresh prompt, whatever the boot log scrolled by
  await expect(screen).toContainText("login:", { timeout: 30_000 });
  await page.keyboard.type("anvil\r");
  await expect(screen).toContainText("login: anvil"); // the echo of what we typed
  await expect(screen).toContainText("Password:");
  await page.goBack();

  await page.getByRole("button", { name: "Delete" }).click();
  await expect(page.getByRole("dialog")).toContainText(`Delete instance web-${suffix}?`);
  await page.getByRole("dialog").getByRole("button", { name: "Delete instance" }).click();
  await expect(page).toHaveURL(/\/t\/acme\/instances$/);
  await expect(page.getByRole("table", { name: "Instances" }).getByRole("link", { name: `web-${suffix}` })).toHaveCount(0, { timeout: 60_000 });

  await ops.goto(hostHref);
  await expect(ops.getByRole("heading", { name: hostName, level: 1 })).toBeVisible();
  await expect(ops.getByTitle("State: available").first()).toBeVisible({ timeout: 30_000 });
  await ops.close();

  // The data volume outlived the instance (detached, available); the tenant deletes it too.
  await page.goto("/t/acme/volumes");
  await page.getByRole("button", { name: `Delete volume data-${suffix}` }).click();
  await page.getByRole("dialog").getByRole("button", { name: "Delete volume" }).click();
  await expect(page.getByRole("table", { name: "Volumes" }).getByRole("row", { name: new RegExp(`data-${suffix}`) })).toHaveCount(0);
});

test("a member of another tenant sees nothing of acme's instances", async ({ page }) => {
  await loginAs(page, "globexAdmin");
  await page.goto("/t/globex/instances");
  await expect(page.getByRole("heading", { name: "Instances" })).toBeVisible();
  await expect(page.getByText(/No instances yet/)).toBeVisible();
  const res = await page.request.get("/t/acme/instances");
  expect(res.status()).toBe(404);
});

test("a host fails under an instance: it comes back on another host with the same address", async ({ page, browser }) => {
  test.setTimeout(240_000);
  await loginAs(page, "acmeAdmin");
  await createInstance(page, `db-${suffix}`, { pool: "gpu", recovery: true, userData: "#cloud-config\npackages: [nginx]\n" });
  await expect(details(page).getByTitle(/^State: running/)).toBeVisible({ timeout: 60_000 });
  const address = (await page.getByTestId("instance-address").textContent())!;
  const instanceUrl = page.url();

  const ops = await browser.newPage();
  await loginAs(ops, "operatorAdmin", /\/ops$/);
  await ops.goto("/ops/instances");
  const row = () => ops.getByRole("table", { name: "All instances" }).getByRole("row", { name: new RegExp(`db-${suffix}`) });
  const before = (await row().getByRole("link").textContent())!;

  await labFault(before, { unreachable: true });
  try {
    // The sync finds the BMC gone, the recovery check fences the host and moves the instance.
    await expect(row().getByRole("link")).not.toHaveText(before, { timeout: 180_000 });
    await expect(row()).toContainText("running", { timeout: 60_000 });
    await page.goto(instanceUrl);
    await expect(details(page).getByTitle(/^State: running/)).toBeVisible();
    await expect(page.getByTestId("instance-address")).toHaveText(address);
    await expect(latestOp(page)).toContainText(/instance\.recover.*succeeded/);
    // Operators see the recovery on the failed host's events.
    await ops.goto("/ops/events");
    await expect(ops.getByText(new RegExp(`Fenced for the recovery of instance db-${suffix}`)).first()).toBeVisible();

    // Console refusals carry their reason: another tenant's member on this instance (answered exactly like an
    // instance that does not exist), the tenant on its DPU.
    const instanceId = instanceUrl.split("/").at(-1)!;
    const other = await browser.newPage();
    await loginAs(other, "globexAdmin");
    expect(await consoleRefusal(other, `/api/console/instance/${instanceId}`)).toEqual({ code: 4404, reason: "No such instance" });
    await other.close();
    await ops.goto("/ops/instances");
    const hostId = (await row().getByRole("link").getAttribute("href"))!.split("/").at(-1)!;
    const res = await ops.request.get(`/api/trpc/nodes.get?input=${encodeURIComponent(JSON.stringify({ json: { id: hostId } }))}`);
    expect(res.ok()).toBe(true);
    const dpuId = ((await res.json()).result.data.json.children as { id: string; kind: string }[]).find((c) => c.kind === "dpu")!.id;
    expect(await consoleRefusal(page, `/api/console/${dpuId}`)).toEqual({ code: 4403, reason: "DPU consoles are for operators only" });
  } finally {
    await labFault(before, null);
  }
  await page.getByRole("button", { name: "Delete" }).click();
  await page.getByRole("dialog").getByRole("button", { name: "Delete instance" }).click();
  await expect(page).toHaveURL(/\/t\/acme\/instances$/);
  await ops.close();
});
