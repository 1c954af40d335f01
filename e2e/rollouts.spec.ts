// A rolling DPU OS update from the browser (issue #17 point 5): an operator admin starts a rollout over two of the
// lab's enrolled hosts, one host at a time, and watches each host's update end in done and the rollout finish
// (max-unavailable, pause, resume, abort and skip are proven in server/workflows/rollouts.test.ts). The hosts' DPUs
// are powered on first through the API with the operator's session (a DPU takes an update only when on), as a script
// would. Hosts in the middle of the enrolled ones: live-events takes the last, run steps the one before it.
import fs from "node:fs";
import path from "node:path";
import { expect, type Page, test } from "@playwright/test";
import { loginAs, toast } from "./helpers";

interface LabHost {
  name: string;
  dpu_bmc_address: string | null;
}

const manifestPath = process.env.ANVIL_LAB_MANIFEST ?? path.resolve("test-results/lab.json");

async function trpcQuery<T>(page: Page, proc: string, input: unknown): Promise<T> {
  const res = await page.request.get(`/api/trpc/${proc}?input=${encodeURIComponent(JSON.stringify({ json: input }))}`);
  expect(res.ok(), `${proc} → ${res.status()}`).toBe(true);
  return (await res.json()).result.data.json as T;
}

type Node = { id: string; name: string; powerState: string; parentNodeId: string | null };

/** Powers the node on (host before its DPU) unless it is on, and waits until Anvil records it on. */
async function powerOn(page: Page, name: string) {
  const list = await trpcQuery<{ items: Node[] }>(page, "nodes.list", { q: name, includeChildren: true, limit: 50 });
  const n = list.items.find((x) => x.name === name)!;
  expect(n, name).toBeTruthy();
  if (n.powerState !== "on") {
    const res = await page.request.post("/api/trpc/nodes.power", { data: { json: { ids: [n.id], action: "on" } } });
    expect(res.ok(), `power on ${name}`).toBe(true);
  }
  await expect
    .poll(
      async () =>
        (await trpcQuery<{ items: Node[] }>(page, "nodes.list", { q: name, includeChildren: true, limit: 50 })).items.find((x) => x.name === name)?.powerState,
      {
        timeout: 30_000,
        message: `${name} powered on`,
      },
    )
    .toBe("on");
}

test("an operator admin rolls a DPU OS image over two hosts, one at a time, and watches it finish", async ({ page }) => {
  test.setTimeout(120_000);
  await expect.poll(() => fs.existsSync(manifestPath), { timeout: 90_000, message: `the lab manifest at ${manifestPath}` }).toBe(true);
  const lab = JSON.parse(fs.readFileSync(manifestPath, "utf8")) as { hosts: LabHost[] };
  const hosts = lab.hosts
    .slice(0, 12)
    .filter((h) => h.dpu_bmc_address)
    .slice(-2);
  expect(hosts, "two enrolled lab hosts with DPUs").toHaveLength(2);

  await loginAs(page, "operatorAdmin", /\/ops$/);
  for (const h of hosts) {
    await powerOn(page, h.name);
    await powerOn(page, `${h.name}-dpu`);
  }

  await page.goto("/ops/rollouts");
  await page.getByRole("button", { name: "Start rollout" }).click();
  const dialog = page.getByRole("dialog", { name: "Start a DPU OS rollout" });
  await dialog.getByLabel("DPU OS image URL").fill("http://127.0.0.1:9/bf-bundle-3.1.0-5_25.04_ubuntu-22.04_prod.bfb");
  await expect(dialog.getByLabel("Hosts updated at once (max unavailable)")).toHaveValue("1");
  await expect(dialog.getByLabel("Hosts running instances")).toContainText("Skip them");
  for (const h of hosts) {
    await dialog.getByLabel("Search hosts").fill(h.name);
    await dialog.getByRole("checkbox", { name: `Update ${h.name}`, exact: true }).check();
  }
  await expect(dialog.getByText("2 selected")).toBeVisible();
  await dialog.getByRole("button", { name: "Start rollout" }).click();
  await expect(toast(page, "Rollout started.")).toBeVisible();

  const rollout = page.getByRole("region", { name: "Rollout bf-bundle-3.1.0-5_25.04_ubuntu-22.04_prod.bfb" });
  const rows = rollout.getByRole("table", { name: "Rollout hosts" }).getByRole("row");
  await expect(rows.filter({ hasText: hosts[0]!.name })).toBeVisible();
  for (const h of hosts) await expect(rows.filter({ hasText: h.name }).getByText("done", { exact: true })).toBeVisible({ timeout: 60_000 });
  await expect(rollout.getByText("succeeded", { exact: true })).toBeVisible({ timeout: 15_000 });
  await expect(rollout.getByText("2 of 2 hosts done")).toBeVisible();
  await expect(rollout.getByRole("button", { name: "Resume" })).toBeDisabled();
});
