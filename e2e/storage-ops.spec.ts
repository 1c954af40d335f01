// E2E: storage administration and images beyond the upload the storage spec covers. The operator groups unassigned
// disks of the lab's storage service into a disk pool, carves a logical pool out of it, and deletes both again (the
// disks are unassigned once more); the operator clones a public image; an Acme member snapshots a volume and saves
// the snapshot as a private image, which the operator sees as Acme's, and the operator makes a public image of the
// same snapshot. Everything made here is deleted again.
import { type Browser, expect, type Page, test } from "@playwright/test";
import { confirm, confirmAction, loginAs, selectMatching, submitDialog, switchTo, toast } from "./helpers";

const sfx = Math.random().toString(36).slice(2, 6);

test("create a disk pool from unassigned disks and a logical pool on it; delete both", async ({ page }) => {
  test.setTimeout(90_000);
  const dp = `e2e-dp-${sfx}`;
  const lp = `e2e-lp-${sfx}`;
  await loginAs(page, "operatorAdmin", /\/ops$/);
  await page.goto("/ops/storage");
  const disksStat = page.getByRole("region", { name: "Capacity" });
  await expect(disksStat).toContainText(/\d+ unassigned/);
  const unassignedBefore = (await disksStat.textContent())!.match(/(\d+) unassigned/)![1];

  await page.getByRole("button", { name: "Create disk pool" }).click();
  const create = page.getByRole("dialog", { name: "Create disk pool" });
  const disks = create.getByRole("group", { name: /Unassigned disks/ }).getByRole("checkbox");
  await expect(disks.nth(1), "the lab's storage keeps at least two disks unassigned").toBeVisible();
  await create.getByLabel("Name").fill(dp);
  await disks.nth(0).check();
  await disks.nth(1).check();
  await create.getByRole("button", { name: "Create disk pool" }).click();
  await expect(create).toBeHidden();
  await expect(toast(page, `Disk pool ${dp} created.`)).toBeVisible();
  const dpRow = page.getByRole("table", { name: "Disk pools" }).getByRole("row", { name: new RegExp(dp) });
  await expect(dpRow).toBeVisible();

  try {
    const lpDialog = await submitDialog(page, "Create logical pool", {
      Name: lp,
      "Disk pool": { select: { label: dp } },
      Redundancy: { select: "replica" },
      Copies: "2",
    });
    await expect(lpDialog).toBeHidden();
    await expect(toast(page, `Logical pool ${lp} saved.`)).toBeVisible();
    const lpRow = page.getByRole("table", { name: "Logical pools" }).getByRole("row", { name: new RegExp(lp) });
    await expect(lpRow).toContainText(dp);

    // A disk pool that still holds a logical pool is not deleted: the storage service says why.
    await page.getByRole("button", { name: `Delete disk pool ${dp}` }).click();
    const refused = page.getByRole("dialog", { name: `Delete disk pool ${dp}?` });
    await refused.getByRole("button", { name: "Delete pool" }).click();
    await expect(page.getByRole("alert").filter({ hasText: lp })).toBeVisible();
    await refused.getByRole("button", { name: "Cancel" }).click();
    await expect(dpRow).toBeVisible();

    await confirmAction(page, `Delete logical pool ${lp}`, "Delete pool");
    await expect(toast(page, `Pool ${lp} deleted.`)).toBeVisible();
    await expect(lpRow).toHaveCount(0);
  } finally {
    const lpDel = page.getByRole("button", { name: `Delete logical pool ${lp}` });
    if (await lpDel.isVisible()) {
      await lpDel.click();
      await confirm(page, `Delete logical pool ${lp}?`, "Delete pool");
      await expect(lpDel).toHaveCount(0);
    }
    await confirmAction(page, `Delete disk pool ${dp}`, "Delete pool");
    await expect(toast(page, `Pool ${dp} deleted.`)).toBeVisible();
  }
  await expect(dpRow).toHaveCount(0);
  await expect(disksStat).toContainText(`${unassignedBefore} unassigned`);
});

const copy = `e2e-copy-${sfx}`;
const vol = `e2e-promo-vol-${sfx}`;
const snap = `e2e-promo-snap-${sfx}`;
const saved = `e2e-saved-${sfx}`;
const published = `e2e-pub-${sfx}`;

/** A page signed in as `role`, for API calls with its session. */
async function session(browser: Browser, role: "operatorAdmin" | "acmeMember") {
  const page = await browser.newPage();
  await loginAs(page, role, role === "operatorAdmin" ? /\/ops$/ : undefined);
  return page;
}
async function items(page: Page, proc: string, input: Record<string, unknown>) {
  const res = await page.request.get(`/api/trpc/${proc}?input=${encodeURIComponent(JSON.stringify({ json: { limit: 100, ...input } }))}`);
  return res.ok() ? ((await res.json()).result.data.json.items as { id: string; name: string }[]) : [];
}
const post = (page: Page, proc: string, input: unknown) => page.request.post(`/api/trpc/${proc}`, { data: { json: input } });

// A failure half-way leaves nothing behind: what the image test made is deleted through the API if still there.
test.afterAll(async ({ browser }) => {
  const acme = await session(browser, "acmeMember");
  for (const i of (await items(acme, "images.available", { tenant: "acme" })).filter((x) => x.name === saved))
    await post(acme, "images.deleteOwn", { tenant: "acme", id: i.id });
  for (const x of (await items(acme, "snapshots.list", { tenant: "acme" })).filter((x) => x.name === snap))
    await post(acme, "snapshots.delete", { tenant: "acme", id: x.id });
  for (const x of (await items(acme, "volumes.list", { tenant: "acme" })).filter((x) => x.name === vol))
    await post(acme, "volumes.delete", { tenant: "acme", id: x.id });
  await acme.close();
  const ops = await session(browser, "operatorAdmin");
  for (const n of [copy, published])
    for (const i of (await items(ops, "images.list", { q: n })).filter((x) => x.name === n)) await post(ops, "images.delete", { id: i.id, flatten: false });
  await ops.close();
});

test("the operator clones a public image; a tenant saves a snapshot as a private image", async ({ page }) => {
  test.setTimeout(150_000);

  // Operator: clone debian-12.
  await loginAs(page, "operatorAdmin", /\/ops$/);
  await page.goto("/ops/images");
  const images = page.getByRole("table", { name: "Images" });
  await page.getByRole("button", { name: "Clone image debian-12" }).click();
  const clone = page.getByRole("dialog", { name: "Clone image debian-12" });
  await clone.getByLabel("Name of the copy").fill(copy);
  await clone.getByRole("button", { name: "Clone", exact: true }).click();
  await expect(clone).toBeHidden();
  await expect(toast(page, `Image ${copy} created.`)).toBeVisible();
  const copyRow = images.getByRole("row", { name: new RegExp(copy) });
  await expect(copyRow).toContainText("available", { timeout: 30_000 });
  await expect(copyRow).toContainText("public");

  // Acme member: a volume, a snapshot of it, the snapshot saved as an image.
  await switchTo(page, "acmeMember");
  await page.goto("/t/acme/volumes");
  const create = await submitDialog(page, "Create volume", { Name: vol, "Size (GiB)": "1" });
  await expect(create).toBeHidden();
  await page.getByRole("button", { name: `Snapshot volume ${vol}` }).click();
  const sd = page.getByRole("dialog", { name: `Snapshot volume ${vol}` });
  await sd.getByLabel("Snapshot name").fill(snap);
  await sd.getByRole("button", { name: "Create snapshot" }).click();
  await expect(sd).toBeHidden();

  await page.goto("/t/acme/snapshots");
  await page.getByRole("button", { name: `Save snapshot ${snap} as an image` }).click();
  const promote = page.getByRole("dialog", { name: `Save snapshot ${snap} as an image` });
  await promote.getByLabel("Image name").fill(saved);
  await promote.getByLabel("OS", { exact: true }).fill("debian");
  await promote.getByLabel("OS version").fill("12");
  await promote.getByRole("button", { name: "Save as image" }).click();
  await expect(promote).toBeHidden();
  await expect(toast(page, `Image ${saved} saved; only your tenant sees it.`)).toBeVisible();
  const ownRow = page.getByRole("table", { name: "Your images" }).getByRole("row", { name: new RegExp(saved) });
  await expect(ownRow).toContainText("debian 12");

  // The operator sees it as Acme's image; makes a public image of the same snapshot; deletes that and the clone.
  await switchTo(page, "operatorAdmin", /\/ops$/);
  await page.goto("/ops/images");
  await expect(images.getByRole("row", { name: new RegExp(saved) })).toContainText("tenant acme");
  await page.getByRole("button", { name: "Image from snapshot" }).click();
  const fromSnap = page.getByRole("dialog", { name: "Image from a tenant snapshot" });
  await fromSnap.getByLabel("Tenant (slug)").fill("acme");
  await selectMatching(fromSnap.getByLabel("Snapshot"), new RegExp(`^acme/${snap} \\(of ${vol}, 1 GiB\\)`));
  await fromSnap.getByLabel("Name", { exact: true }).fill(published);
  await fromSnap.getByLabel("OS", { exact: true }).fill("debian");
  await fromSnap.getByLabel("OS version").fill("12");
  await fromSnap.getByRole("button", { name: "Create image" }).click();
  await expect(fromSnap).toBeHidden();
  const pubRow = images.getByRole("row", { name: new RegExp(published) });
  await expect(pubRow).toContainText("public");
  await expect(pubRow).toContainText("available", { timeout: 30_000 });
  await confirmAction(page, `Delete image ${published}`, "Delete image");
  await expect(toast(page, `Image ${published} deleted.`)).toBeVisible();
  await confirmAction(page, `Delete image ${copy}`, "Delete image");
  await expect(toast(page, `Image ${copy} deleted.`)).toBeVisible();
  await expect(copyRow).toHaveCount(0);

  // Acme deletes its image, the snapshot and the volume.
  await switchTo(page, "acmeMember");
  await page.goto("/t/acme/snapshots");
  await confirmAction(page, `Delete image ${saved}`, "Delete image");
  await expect(toast(page, `Image ${saved} deleted.`)).toBeVisible();
  await expect(ownRow).toHaveCount(0);
  await confirmAction(page, `Delete snapshot ${snap}`, "Delete snapshot");
  await expect(toast(page, `Snapshot ${snap} deleted.`)).toBeVisible();
  await page.goto("/t/acme/volumes");
  await confirmAction(page, `Delete volume ${vol}`, "Delete volume");
  await expect(toast(page, `Volume ${vol} deleted.`)).toBeVisible();
});
