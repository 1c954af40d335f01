// Storage end to end, like a person: the operator uploads a tiny qcow2 image (made here by qemu-img), sees its SHA-256, and
// lowers Acme's volume quota to 2; an Acme member creates a system disk from the image, snapshots it, creates a
// second volume from the snapshot, hits the quota on the third and reads the message; the operator sees both
// volumes under the tenant on the storage page. Runs against the E2E server's lab storage service.
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { expect, test } from "@playwright/test";
import { asServed, loginAs, switchTo } from "./helpers";

/** A real qcow2 (qemu-img, Debian qemu-utils) of a 1 GiB disk holding 64 KiB of data. */
function tinyQcow2(): Buffer {
  const dir = mkdtempSync(path.join(tmpdir(), "anvil-e2e-qcow2-"));
  try {
    writeFileSync(path.join(dir, "disk.raw"), Buffer.alloc(64 * 1024, 0xab));
    execFileSync("qemu-img", ["convert", "-q", "-f", "raw", "-O", "qcow2", path.join(dir, "disk.raw"), path.join(dir, "disk.qcow2")]);
    execFileSync("qemu-img", ["resize", "-q", "-f", "qcow2", path.join(dir, "disk.qcow2"), "1G"]);
    return readFileSync(path.join(dir, "disk.qcow2"));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const sfx = Math.random().toString(36).slice(2, 7);
const imageName = `e2e-ubuntu-${sfx}`;
const vol1 = `e2e-sys-${sfx}`;
const vol2 = `e2e-restored-${sfx}`;
const snap = `e2e-snap-${sfx}`;

test("image upload → volume from image → snapshot → volume from snapshot → quota → operator view", async ({ page }) => {
  test.setTimeout(120_000);
  // Operator: a small volume quota for Acme, then upload the image.
  await loginAs(page, "operatorAdmin", /\/ops$/);
  await page.getByRole("link", { name: "Tenants", exact: true }).click();
  await page.getByRole("table", { name: "Tenants" }).getByRole("link", { name: "Acme Corp" }).click();
  await page.getByRole("button", { name: "Edit quota" }).click();
  const quota = page.getByRole("dialog", { name: "Edit quota" });
  const volumesBefore = await quota.getByLabel("Volumes", { exact: true }).inputValue();
  await quota.getByLabel("Volumes", { exact: true }).fill("2");
  await quota.getByRole("button", { name: "Save quota" }).click();
  await expect(quota).toBeHidden();

  await page.goto("/ops/images");
  await page.getByRole("button", { name: "Upload image" }).click();
  const upload = page.getByRole("dialog", { name: "Upload image" });
  const file = tinyQcow2();
  await upload.getByLabel("Image file").setInputFiles({ name: "tiny.qcow2", mimeType: "application/octet-stream", buffer: file });
  await upload.getByLabel("Name").fill(imageName);
  await upload.getByLabel("OS", { exact: true }).fill("ubuntu");
  await upload.getByLabel("OS version").fill("24.04");
  await upload.getByRole("button", { name: "Upload" }).click();
  // The success state shows the file's SHA-256, as the server computed it while the bytes arrived.
  const uploaded = page.getByRole("dialog", { name: `Image ${imageName} uploaded` });
  // The upload is checked (qemu-img) and written into storage before the dialog shows; a busy machine takes a while.
  await expect(uploaded).toContainText(createHash("sha256").update(file).digest("hex"), { timeout: 60_000 });
  await uploaded.getByRole("button", { name: "Done" }).click();
  await expect(uploaded).toBeHidden();
  const imageRow = page.getByRole("table", { name: "Images" }).getByRole("row", { name: new RegExp(imageName) });
  await expect(imageRow).toContainText("qcow2");
  await expect(imageRow).toContainText("available");

  // Acme member: system disk from the image.
  await switchTo(page, "acmeMember");
  await page.goto("/t/acme/volumes");
  await page.getByRole("button", { name: "Create volume" }).click();
  let dialog = page.getByRole("dialog", { name: "Create volume" });
  await dialog.getByLabel("Name").fill(vol1);
  await dialog.getByLabel("Source").selectOption("image");
  await dialog.getByLabel("Image").selectOption({ label: `${imageName} (ubuntu 24.04)` });
  await dialog.getByLabel("Size (GiB)").fill("10");
  await dialog.getByRole("button", { name: "Create volume" }).click();
  await expect(dialog).toBeHidden();
  const row1 = page.getByRole("table", { name: "Volumes" }).getByRole("row", { name: new RegExp(vol1) });
  await expect(row1).toContainText(`image ${imageName}`);
  await expect(row1).toContainText("system");

  // Snapshot it.
  await page.getByRole("button", { name: `Snapshot volume ${vol1}` }).click();
  dialog = page.getByRole("dialog", { name: `Snapshot volume ${vol1}` });
  await dialog.getByLabel("Snapshot name").fill(snap);
  await dialog.getByRole("button", { name: "Create snapshot" }).click();
  await expect(dialog).toBeHidden();

  // A second volume from the snapshot.
  await page.goto("/t/acme/snapshots");
  await expect(page.getByRole("table", { name: "Snapshots" }).getByRole("row", { name: new RegExp(snap) })).toContainText(vol1);
  await page.getByRole("button", { name: `Create volume from snapshot ${snap}` }).click();
  dialog = page.getByRole("dialog", { name: `Create volume from snapshot ${snap}` });
  await dialog.getByLabel("Name").fill(vol2);
  await dialog.getByRole("button", { name: "Create volume" }).click();
  await expect(dialog).toBeHidden();

  // The quota: a third volume is refused with the reason.
  await page.goto("/t/acme/volumes");
  await expect(page.getByRole("table", { name: "Volumes" }).getByRole("row", { name: new RegExp(vol2) })).toContainText(`snapshot ${snap}`);
  await expect(page.getByRole("region", { name: "Storage quota" })).toContainText("2 of 2");
  await page.getByRole("button", { name: "Create volume" }).click();
  dialog = page.getByRole("dialog", { name: "Create volume" });
  await dialog.getByLabel("Name").fill(`e2e-third-${sfx}`);
  await dialog.getByLabel("Size (GiB)").fill("1");
  await dialog.getByRole("button", { name: "Create volume" }).click();
  await expect(dialog.getByRole("alert")).toContainText(/Quota exceeded: this would use 3 volumes but the tenant's quota is 2 volumes/);
  await dialog.getByRole("button", { name: "Cancel" }).click();

  // The first page of each list is rendered on the server: the rows are there before any script runs.
  await asServed(page, "/t/acme/volumes", async (served) => {
    await expect(served.getByRole("table", { name: "Volumes" }).getByRole("row", { name: new RegExp(vol2) })).toContainText(`snapshot ${snap}`);
  });
  await asServed(page, "/t/acme/snapshots", async (served) => {
    await expect(served.getByRole("table", { name: "Snapshots" }).getByRole("row", { name: new RegExp(snap) })).toContainText(vol1);
  });

  // Operator: both volumes under the tenant.
  await switchTo(page, "operatorAdmin", /\/ops$/);
  await asServed(page, "/ops/images", async (served) => {
    await expect(served.getByRole("table", { name: "Images" }).getByRole("row", { name: new RegExp(imageName) })).toContainText("available");
  });
  await page.goto("/ops/storage");
  await expect(page.getByRole("table", { name: "Logical pools" })).toContainText("default");
  await page.getByLabel("Tenant (slug)").fill("acme");
  const all = page.getByRole("table", { name: "All volumes" });
  await expect(all.getByRole("row", { name: new RegExp(vol1) })).toContainText("acme");
  await expect(all.getByRole("row", { name: new RegExp(vol2) })).toContainText("acme");
  await all.getByRole("button", { name: vol2 }).click();
  await expect(page.getByRole("dialog", { name: `Volume ${vol2} (acme)` })).toContainText("Parent snapshot");

  // Acme's quota goes back to what it was, so the later specs can create their instances.
  await page.goto("/ops/tenants");
  await page.getByRole("table", { name: "Tenants" }).getByRole("link", { name: "Acme Corp" }).click();
  await page.getByRole("button", { name: "Edit quota" }).click();
  const restore = page.getByRole("dialog", { name: "Edit quota" });
  await restore.getByLabel("Volumes", { exact: true }).fill(volumesBefore);
  await restore.getByRole("button", { name: "Save quota" }).click();
  await expect(restore).toBeHidden();
});
