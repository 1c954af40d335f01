// E2E: the serial console in the browser, against the real production server and a lab Redfish BMC this spec
// starts beside it (real HTTP/WebSocket on 127.0.0.1). An operator enrolls the lab host, opens its console page,
// sees the boot log and the login prompt after power-on, logs in by typing and sees the echo; then the lab drops
// the console (admin API) and the page reconnects by itself and keeps working. A tenant user cannot reach it.
import { expect, type Page, test } from "@playwright/test";
import { type RedfishSim, startRedfishSim } from "../sim/redfish";
import { resetVia } from "../sim/redfish/test-helpers";
import { loginAs } from "./helpers";

test.describe.configure({ mode: "serial" });

let sim: RedfishSim;
let nodeId = "";
let page: Page;
const nodeName = `console-e2e-${Math.random().toString(36).slice(2, 7)}`;

test.beforeAll(async ({ browser }) => {
  sim = await startRedfishSim({ hosts: 1, dpuEvery: 0, powerTransitionMs: 50, bootMs: 600, allBootable: true });
  page = await browser.newPage();
  await loginAs(page, "operatorAdmin", /\/ops$/);
  const bmc = sim.byId("node-0001")!;
  // Enroll through the app's own API (the enroll dialog has its own spec); the BMC is probed for real.
  const res = await page.request.post("/api/trpc/nodes.enroll", {
    data: { json: { name: nodeName, driver: "redfish", address: bmc.url, username: bmc.username, password: bmc.password, verifyTls: false } },
  });
  expect(res.ok(), await res.text()).toBe(true);
  nodeId = (await res.json()).result.data.json.nodeId;
});

test.afterAll(async () => {
  await page?.close();
  await sim?.close();
});

/** The terminal's visible text (xterm.js DOM renderer rows). */
const screen = () => page.locator(".xterm-rows");

test("an operator opens a host's console, sees the login prompt, types and sees the echo", async () => {
  await page.goto(`/ops/nodes/${nodeId}/console`);
  await expect(page.getByRole("heading", { name: `Console: ${nodeName}` })).toBeVisible();
  const status = page.getByRole("status");
  await expect(status).toContainText("Connected");
  await expect(page.getByText("Read-only")).toHaveCount(0);

  await resetVia(sim.byId("node-0001")!, "On");
  await expect(screen()).toContainText("Linux");
  await expect(screen()).toContainText("node-0001 login:", { timeout: 15_000 });

  await page.getByTestId("console-terminal").click();
  await page.keyboard.type("anvil");
  await page.keyboard.press("Enter");
  await expect(screen()).toContainText("Password:");
  await page.keyboard.type("not-echoed");
  await page.keyboard.press("Enter");
  await expect(screen()).toContainText("anvil@node-0001:~$");
  await expect(screen()).not.toContainText("not-echoed");
  await page.keyboard.type("whoami");
  await page.keyboard.press("Enter");
  await expect(screen()).toContainText("whoami");
  await expect(page.getByRole("button", { name: "Send break" })).not.toHaveAttribute("aria-disabled", "true");
});

test("the page reconnects by itself after the lab drops the console, and keeps working", async () => {
  const r = await fetch(`${sim.adminUrl}/admin/bmcs/node-0001/console/drop`, { method: "POST" });
  expect(r.ok).toBe(true);
  await expect(screen()).toContainText("reconnected", { timeout: 15_000 });
  await expect(page.getByRole("status")).toContainText("Connected");
  await page.getByTestId("console-terminal").click();
  await page.keyboard.type("hostname");
  await page.keyboard.press("Enter");
  await expect(screen()).toContainText(/hostname\s*node-0001/);
});

test("the browser link reconnects too: a reload replays the scrollback", async () => {
  await page.reload();
  await expect(page.getByRole("status")).toContainText("Connected");
  await expect(screen()).toContainText("anvil@node-0001:~$");
});

test("an operator viewer gets the console read-only", async ({ browser }) => {
  const viewer = await browser.newPage();
  await loginAs(viewer, "operatorViewer", /\/ops$/);
  await viewer.goto(`/ops/nodes/${nodeId}/console`);
  await expect(viewer.getByRole("status")).toContainText("Connected");
  await expect(viewer.getByText("Read-only", { exact: true })).toBeVisible();
  await expect(viewer.getByRole("button", { name: "Send break" })).toHaveAttribute("aria-disabled", "true");
  await viewer.close();
});

test("a tenant user cannot reach a host's console page (existence does not leak)", async ({ browser }) => {
  const tenant = await browser.newPage();
  await loginAs(tenant, "acmeMember");
  await tenant.goto(`/ops/nodes/${nodeId}/console`);
  await expect(tenant.getByRole("heading", { name: "Page not found" })).toBeVisible();
  await expect(tenant.locator(".xterm-rows")).toHaveCount(0);
  await tenant.close();
});
