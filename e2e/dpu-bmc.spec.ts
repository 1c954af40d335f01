// E2E: a DPU's own BMC credentials. A spare lab host is enrolled without its DPU and inspected from its page: the DPU
// appears as a child that says its BMC credentials are needed (Anvil does not call it with the host's), its power, boot
// device and firmware buttons disabled with the reason to set them first. On the DPU's page the operator sets them: wrong ones are refused on the form with the BMC's reason, the right ones are saved and
// shown only as a fingerprint. A DPU behind its host's BMC (BMC cascade) is shown as reached "via host BMC <host>" and
// reads its power once given its own credentials. Each host (and its DPU) is deleted again, so the later specs find the
// lab as it was.
import fs from "node:fs";
import path from "node:path";
import { expect, type Page, test } from "@playwright/test";
import { loginAs, toast } from "./helpers";

interface LabHost {
  name: string;
  bmc_address: string;
  bmc_username: string;
  bmc_password: string;
  dpu_bmc_address: string | null;
  dpu_bmc_username: string | null;
  dpu_bmc_password: string | null;
}

const manifestPath = process.env.ANVIL_LAB_MANIFEST ?? path.resolve("test-results/lab.json");

/** A tRPC call as a script makes it, with the page's session. */
async function trpc<T>(page: Page, kind: "query" | "mutation", proc: string, input: unknown): Promise<T> {
  const res =
    kind === "query"
      ? await page.request.get(`/api/trpc/${proc}?input=${encodeURIComponent(JSON.stringify({ json: input }))}`)
      : await page.request.post(`/api/trpc/${proc}`, { data: { json: input } });
  expect(res.ok(), `${proc} → ${res.status()} ${await res.text()}`).toBe(true);
  return (await res.json()).result.data.json as T;
}

const nodeNamed = async (page: Page, name: string) =>
  (await trpc<{ items: { id: string; name: string }[] }>(page, "query", "nodes.list", { q: name, includeChildren: true, limit: 50 })).items.find(
    (n) => n.name === name,
  );

test("a DPU found at inspection asks for its own BMC credentials; wrong ones are refused, right ones saved", async ({ page }) => {
  test.setTimeout(240_000);
  // The E2E server writes the lab's manifest once the lab is up, which may be after it answers (run alone, this spec
  // is first).
  await expect.poll(() => fs.existsSync(manifestPath), { timeout: 90_000, message: `the lab manifest at ${manifestPath}` }).toBe(true);
  const lab = JSON.parse(fs.readFileSync(manifestPath, "utf8")) as { hosts: LabHost[] };
  await loginAs(page, "operatorAdmin", /\/ops$/);
  // The lab's spare hosts are its last ones (it enrolls the first): hardware-ops takes the first two spares, hardware
  // the last host; this spec the one before that.
  const host = lab.hosts.filter((x) => x.dpu_bmc_address && x.dpu_bmc_password).at(-2)!;
  expect(await nodeNamed(page, host.name), `${host.name} is a spare host of the lab`).toBeUndefined();
  const dpuName = `${host.name}-dpu`;

  try {
    // Enrolled by its BMC only: the DPU is left for inspection to find.
    const enrolled = await trpc<{ nodeId: string }>(page, "mutation", "nodes.enroll", {
      name: host.name,
      driver: "redfish",
      address: host.bmc_address,
      username: host.bmc_username,
      password: host.bmc_password,
      verifyTls: false,
    });
    await page.goto(`/ops/nodes/${enrolled.nodeId}`);
    await expect(page.getByRole("heading", { name: host.name, level: 1 })).toBeVisible();
    await page.getByRole("button", { name: "Inspect" }).click();
    const dpus = page.getByRole("table", { name: `DPUs of ${host.name}` });
    await expect(dpus.getByRole("link", { name: dpuName })).toBeVisible({ timeout: 30_000 });

    await dpus.getByRole("link", { name: dpuName }).click();
    await expect(page.getByRole("heading", { name: dpuName, level: 1 })).toBeVisible();
    const bmc = page.getByRole("region", { name: "BMC" });
    await expect(bmc).toContainText("needed: Anvil does not call this DPU's BMC with its host's");
    // Until then its BMC actions are disabled with the reason the server would refuse them with.
    const actions = page.getByRole("region", { name: "Actions" });
    for (const name of ["Power off", "Set boot device", "Update firmware/OS"]) {
      const button = actions.getByRole("button", { name, exact: true });
      await expect(button).toBeDisabled();
      await expect(button).toHaveAccessibleDescription("Set this DPU's BMC credentials first.");
    }

    // Wrong credentials: refused on the form with the BMC's reason; the DPU still waits for its own.
    await bmc.getByRole("button", { name: "Set DPU BMC credentials" }).click();
    const dialog = page.getByRole("dialog", { name: `Set DPU BMC credentials of ${dpuName}` });
    await dialog.getByLabel("DPU BMC username").fill(host.dpu_bmc_username ?? "admin");
    await dialog.getByLabel("DPU BMC password").fill("not-the-password");
    await dialog.getByRole("button", { name: "Check and save" }).click();
    await expect(dialog.getByText(/refused the credentials/)).toBeVisible({ timeout: 20_000 });
    await expect(dialog).toBeVisible();

    // The right ones: saved after the BMC accepted them, shown only as a fingerprint.
    await dialog.getByLabel("DPU BMC password").fill(host.dpu_bmc_password!);
    await dialog.getByRole("button", { name: "Check and save" }).click();
    await expect(dialog).toBeHidden({ timeout: 20_000 });
    await expect(toast(page, `${dpuName}: DPU BMC credentials saved`)).toBeVisible();
    await expect(bmc).toContainText(/set · fingerprint/);
    await expect(bmc).not.toContainText(host.dpu_bmc_password!);
    await expect(bmc).not.toContainText("needed:");
    await expect(page.getByRole("region", { name: "Actions" }).getByRole("button", { name: "Set boot device" })).toBeEnabled();
  } finally {
    const n = await nodeNamed(page, host.name);
    if (n) await trpc(page, "mutation", "nodes.delete", { id: n.id });
  }
});

test("a DPU behind its host's BMC (cascade) shows as reached via the host's BMC; with its own credentials its power reads", async ({ page }) => {
  test.setTimeout(90_000);
  await expect.poll(() => fs.existsSync(manifestPath), { timeout: 90_000, message: `the lab manifest at ${manifestPath}` }).toBe(true);
  const lab = JSON.parse(fs.readFileSync(manifestPath, "utf8")) as { hosts: LabHost[] };
  // The E2E lab's last host carries its DPU's BMC behind its own (ANVIL_LAB_CASCADE): no DPU BMC address in its row.
  const host = lab.hosts.find((x) => !x.dpu_bmc_address && x.dpu_bmc_password);
  expect(host, "the lab has a host whose DPU sits behind its BMC").toBeTruthy();
  const { name, bmc_address, bmc_username, bmc_password, dpu_bmc_username, dpu_bmc_password } = host!;
  const dpuName = `${name}-dpu`;
  await loginAs(page, "operatorAdmin", /\/ops$/);
  expect(await nodeNamed(page, name), `${name} is a spare host of the lab`).toBeUndefined();
  try {
    const enrolled = await trpc<{ nodeId: string }>(page, "mutation", "nodes.enroll", {
      name,
      driver: "redfish",
      address: bmc_address,
      username: bmc_username,
      password: bmc_password,
      verifyTls: false,
    });
    await page.goto(`/ops/nodes/${enrolled.nodeId}`);
    await page.getByRole("button", { name: "Inspect" }).click();
    const dpus = page.getByRole("table", { name: `DPUs of ${name}` });
    await expect(dpus.getByRole("link", { name: dpuName })).toBeVisible({ timeout: 30_000 });
    await expect(dpus).toContainText(`via host BMC ${name}`);

    await dpus.getByRole("link", { name: dpuName }).click();
    await expect(page.getByRole("heading", { name: dpuName, level: 1 })).toBeVisible();
    const bmc = page.getByRole("region", { name: "BMC" });
    await expect(bmc).toContainText(`via host BMC ${name}`);
    const status = page.getByRole("region", { name: `Status of ${dpuName}` });
    await expect(status.getByTitle("Power: unknown")).toBeVisible();

    await bmc.getByRole("button", { name: "Set DPU BMC credentials" }).click();
    const dialog = page.getByRole("dialog", { name: `Set DPU BMC credentials of ${dpuName}` });
    await dialog.getByLabel("DPU BMC username").fill(dpu_bmc_username ?? "admin");
    await dialog.getByLabel("DPU BMC password").fill(dpu_bmc_password!);
    await dialog.getByRole("button", { name: "Check and save" }).click();
    await expect(dialog).toBeHidden({ timeout: 20_000 });
    await expect(toast(page, `${dpuName}: DPU BMC credentials saved`)).toBeVisible();
    await expect(status.getByTitle(/^Power: (on|off)$/)).toBeVisible();
  } finally {
    const n = await nodeNamed(page, name);
    if (n) await trpc(page, "mutation", "nodes.delete", { id: n.id });
  }
});
