// E2E: what a tenant does with running instances beyond create and delete, and what an operator does about their
// operations. Acme stops, starts and reboots an instance; a multi-attach volume is attached to two instances at once
// and detached from each. An operator aborts a create under way (it rolls back, the instance is failed), retries it
// (it runs to the end), and recovers the instance onto a spare host; the fenced host is then brought back into the
// pool (manage, provide). Everything made here is deleted again, so acme's quota and the pools are as they were.
import fs from "node:fs";
import path from "node:path";
import { expect, type Page, test } from "@playwright/test";
import { confirm, confirmAction, createInstance, loginAs, selectMatching, toast } from "./helpers";

test.describe.configure({ mode: "serial" });

const sfx = Math.random().toString(36).slice(2, 6);
const manifestPath = process.env.ANVIL_LAB_MANIFEST ?? path.resolve("test-results/lab.json");

/** Slows every call to the lab's storage service by `ms` (0: back to normal), through its admin API. */
async function storageLatency(ms: number) {
  const { storage } = JSON.parse(fs.readFileSync(manifestPath, "utf8")) as { storage: { url: string; token: string } };
  const res = await fetch(`${storage.url}/admin/faults`, {
    method: "PUT",
    headers: { authorization: `Bearer ${storage.token}`, "content-type": "application/json" },
    body: JSON.stringify({ latencyMs: ms }),
  });
  expect(res.ok, `PUT ${storage.url}/admin/faults → ${res.status}`).toBe(true);
}
const details = (page: Page) => page.getByRole("region", { name: "Instance details" });
const latestOp = (page: Page) => page.getByRole("region", { name: "Latest operation" });
const attached = (page: Page) => page.getByRole("table", { name: "Attached volumes" });

/** Deletes acme's instances and volumes with these names, if they are still there (the tenant's own API). */
async function cleanUp(page: Page, instanceNames: string[], volumeNames: string[]) {
  const get = async (proc: string) => {
    const res = await page.request.get(`/api/trpc/${proc}?input=${encodeURIComponent(JSON.stringify({ json: { tenant: "acme", limit: 100 } }))}`);
    return res.ok() ? ((await res.json()).result.data.json.items as { id: string; name: string; state: string }[]) : [];
  };
  const post = (proc: string, input: unknown) => page.request.post(`/api/trpc/${proc}`, { data: { json: input } });
  for (const i of (await get("instances.list")).filter((x) => instanceNames.includes(x.name) && x.state !== "deleted" && x.state !== "deleting"))
    await post("instances.delete", { tenant: "acme", id: i.id });
  // Volumes come free once their instances are gone.
  for (let tries = 0; tries < 60; tries++) {
    const left = (await get("volumes.list")).filter((v) => volumeNames.includes(v.name));
    const busy = (await get("instances.list")).some((x) => instanceNames.includes(x.name) && x.state !== "deleted");
    if (!left.length && !busy) return;
    for (const v of left) if (v.state === "available") await post("volumes.delete", { tenant: "acme", id: v.id });
    await page.waitForTimeout(1000);
  }
}

async function openInstance(page: Page, name: string) {
  await page.goto("/t/acme/instances");
  await page.getByRole("table", { name: "Instances" }).getByRole("link", { name, exact: true }).click();
  await expect(page.getByRole("heading", { name })).toBeVisible();
}

async function deleteInstance(page: Page, name: string) {
  await openInstance(page, name);
  await deleteOpenInstance(page, name);
}

/** Deletes the instance whose page is open and waits until it is gone from the list. */
async function deleteOpenInstance(page: Page, name: string) {
  await page.getByRole("button", { name: "Delete" }).click();
  await confirm(page, `Delete instance ${name}?`, "Delete instance");
  await expect(page).toHaveURL(/\/t\/acme\/instances$/);
  await expect(page.getByRole("table", { name: "Instances" }).getByRole("link", { name, exact: true })).toHaveCount(0, { timeout: 60_000 });
}

test("stop, start and reboot an instance; a multi-attach volume on two instances, detached from each", async ({ page }) => {
  test.setTimeout(300_000);
  const a = `act-a-${sfx}`;
  const b = `act-b-${sfx}`;
  const shared = `shared-${sfx}`;
  await loginAs(page, "acmeAdmin");
  try {
    // Two instances, created one after the other and running side by side.
    await createInstance(page, a, { pool: "general" });
    await createInstance(page, b, { pool: "general" });
    await expect(details(page).getByTitle("State: running")).toBeVisible({ timeout: 90_000 });
    await openInstance(page, a);
    await expect(details(page).getByTitle("State: running")).toBeVisible({ timeout: 90_000 });

    // Stop (graceful), then start: the state follows without a reload.
    const stop = page.getByRole("button", { name: "Stop", exact: true });
    const start = page.getByRole("button", { name: "Start", exact: true });
    await expect(start).toHaveAttribute("aria-disabled", "true");
    await stop.click();
    await expect(toast(page, "Stopping.")).toBeVisible();
    await expect(details(page).getByTitle("State: stopped")).toBeVisible({ timeout: 60_000 });
    await expect(latestOp(page)).toContainText(/instance\.stop.*succeeded/);
    // Stopped: stopping again and rebooting are refused, with the reason on the button.
    await expect(stop).toHaveAttribute("aria-disabled", "true");
    await expect(page.getByRole("button", { name: "Reboot", exact: true })).toHaveAttribute("aria-disabled", "true");
    await start.click();
    await expect(toast(page, "Starting.")).toBeVisible();
    await expect(details(page).getByTitle("State: running")).toBeVisible({ timeout: 60_000 });
    await expect(latestOp(page)).toContainText(/instance\.start.*succeeded/);
    await page.getByRole("button", { name: "Reboot", exact: true }).click();
    await expect(toast(page, "Rebooting.")).toBeVisible();
    await expect(latestOp(page)).toContainText(/instance\.reboot.*succeeded/, { timeout: 60_000 });
    await expect(details(page).getByTitle("State: running")).toBeVisible();

    // A multi-attach data volume.
    await page.goto("/t/acme/volumes");
    await page.getByRole("button", { name: "Create volume" }).click();
    const create = page.getByRole("dialog", { name: "Create volume" });
    await create.getByLabel("Name").fill(shared);
    await create.getByLabel("Size (GiB)").fill("1");
    await create.getByLabel(/Multi-attach/).check();
    await create.getByRole("button", { name: "Create volume" }).click();
    await expect(create).toBeHidden();
    await expect(page.getByRole("table", { name: "Volumes" }).getByRole("row", { name: new RegExp(shared) })).toContainText("available");

    // Attached to both instances at once.
    for (const name of [a, b]) {
      await openInstance(page, name);
      await page.getByRole("button", { name: "Attach volume" }).click();
      const dialog = page.getByRole("dialog", { name: `Attach a volume to ${name}` });
      await selectMatching(dialog.getByLabel("Volume"), new RegExp(`^${shared} \\(1 GiB, multi-attach\\)`));
      await dialog.getByRole("button", { name: "Attach" }).click();
      await expect(latestOp(page)).toContainText(/instance\.attach_volume.*succeeded/, { timeout: 60_000 });
      await expect(attached(page).getByRole("row", { name: new RegExp(shared) })).toContainText("data · multi-attach");
    }
    await page.goto("/t/acme/volumes");
    await expect(page.getByRole("table", { name: "Volumes" }).getByRole("row", { name: new RegExp(shared) })).toContainText("attached");

    // Detached from b: a keeps it; then from a: the volume is free again.
    for (const [name, stillAttached] of [
      [b, true],
      [a, false],
    ] as const) {
      await openInstance(page, name);
      await page.getByRole("button", { name: `Detach volume ${shared}` }).click();
      await expect(latestOp(page)).toContainText(/instance\.detach_volume.*succeeded/, { timeout: 60_000 });
      await expect(attached(page).getByRole("row", { name: new RegExp(shared) })).toHaveCount(0);
      await expect(details(page).getByTitle("State: running")).toBeVisible();
      await page.goto("/t/acme/volumes");
      await expect(page.getByRole("table", { name: "Volumes" }).getByRole("row", { name: new RegExp(shared) })).toContainText(
        stillAttached ? "attached" : "available",
      );
    }
    await confirmAction(page, `Delete volume ${shared}`, "Delete volume");
    await expect(page.getByRole("table", { name: "Volumes" }).getByRole("row", { name: new RegExp(shared) })).toHaveCount(0);

    await deleteInstance(page, a);
    await deleteInstance(page, b);
  } finally {
    await cleanUp(page, [a, b], [shared]);
  }
});

test("an operator aborts a create under way, retries it, and recovers the instance onto a spare host", async ({ page, browser }) => {
  test.setTimeout(300_000);
  const name = `ops-${sfx}`;
  await loginAs(page, "acmeAdmin");
  const ops = await browser.newPage();
  await loginAs(ops, "operatorAdmin", /\/ops$/);
  let fencedHost: string | null = null;
  try {
    // A slow storage service keeps the create under way long enough for a person to abort it.
    await storageLatency(4000);
    await createInstance(page, name, { pool: "gpu" });
    await ops.goto("/ops/instances");
    await ops.getByLabel("Filter instances").fill(name);
    const row = ops.getByRole("table", { name: "All instances" }).getByRole("row", { name: new RegExp(name) });
    await expect(row.getByTitle("State: creating")).toBeVisible();

    // The operator aborts it while it runs: it stops at its next step and rolls back.
    const abort = row.getByRole("button", { name: `Abort creating ${name}` });
    await expect(abort).not.toHaveAttribute("aria-disabled", "true");
    await abort.click();
    await ops
      .getByRole("dialog", { name: `Abort creating ${name}?` })
      .getByRole("button", { name: "Abort create" })
      .click();
    await expect(ops.getByRole("status").filter({ hasText: "Abort requested: the create rolls back." })).toBeVisible();
    await storageLatency(0);
    await expect(row.getByTitle(/^(State: )?failed/)).toBeVisible({ timeout: 60_000 });
    await expect(row).toContainText("instance.create");
    await expect(row).toContainText("cancelled");
    await expect(row.getByRole("link")).toHaveCount(0); // the host went back to the pool
    await expect(details(page).getByTitle(/^(State: )?failed/)).toBeVisible();

    // Retry: the create runs again, to the end.
    await row.getByRole("button", { name: `Retry the latest operation of ${name}` }).click();
    await ops
      .getByRole("dialog", { name: `Retry instance.create of ${name}?` })
      .getByRole("button", { name: "Retry" })
      .click();
    await expect(ops.getByRole("status").filter({ hasText: "Retrying." })).toBeVisible();
    await expect(row.getByTitle("State: running")).toBeVisible({ timeout: 90_000 });
    await expect(details(page).getByTitle("State: running")).toBeVisible({ timeout: 15_000 });
    const address = (await page.getByTestId("instance-address").textContent())!;

    // Recover onto a spare host: the old host is fenced, the instance comes back elsewhere with the same address.
    const before = (await row.getByRole("link").textContent())!;
    fencedHost = (await row.getByRole("link").getAttribute("href"))!;
    await row.getByRole("button", { name: `Recover ${name}` }).click();
    await ops
      .getByRole("dialog", { name: `Recover ${name} onto a spare host?` })
      .getByRole("button", { name: "Recover" })
      .click();
    await expect(ops.getByRole("status").filter({ hasText: "Recovery started." })).toBeVisible();
    await expect(row.getByRole("link")).not.toHaveText(before, { timeout: 120_000 });
    await expect(row.getByTitle("State: running")).toBeVisible({ timeout: 90_000 });
    await expect(row).toContainText(/instance\.recover\s*succeeded/);
    await expect(latestOp(page)).toContainText(/instance\.recover.*succeeded/, { timeout: 15_000 });
    await expect(page.getByTestId("instance-address")).toHaveText(address);

    await deleteOpenInstance(page, name);
  } finally {
    await storageLatency(0);
    await cleanUp(page, [name], []);
    // The fenced host goes back into the pool, as an operator does it: manage (out of error), then provide.
    if (fencedHost) {
      await ops.goto(fencedHost);
      const status = ops.getByRole("region", { name: /^Status of / });
      await expect(status.getByTitle(/^State: /)).toBeVisible();
      if (await status.getByTitle("State: error").count()) {
        await ops.getByRole("button", { name: "Manage", exact: true }).click();
        await expect(status.getByTitle("State: manageable")).toBeVisible({ timeout: 30_000 });
      }
      if (await status.getByTitle("State: manageable").count()) {
        await ops.getByRole("button", { name: "Provide", exact: true }).click();
      }
      await expect(status.getByTitle("State: available")).toBeVisible({ timeout: 30_000 });
    }
    await ops.close();
  }
});
