// E2E: an operator boots a host once from an ISO (Redfish VirtualMedia, workflow node.virtual_media_boot) from the
// host's page. One of the lab's spare hosts is enrolled for it (through the API, as the other hardware specs leave
// the UI enroll to themselves): an image URL off the management network is refused on the field; an image the BMC
// cannot fetch fails the operation with the BMC's reason and leaves nothing mounted; a served image boots the host
// from the virtual CD (the lab BMC says so) and is ejected after. The host is deleted again at the end.
import fs from "node:fs";
import path from "node:path";
import { expect, type Page, test } from "@playwright/test";
import { loginAs, toast } from "./helpers";

interface LabHost {
  name: string;
  bmc_address: string;
  bmc_username: string;
  bmc_password: string;
}
interface LabManifest {
  redfishAdminUrl: string;
  hosts: LabHost[];
}

test.describe.configure({ mode: "serial" });

const manifestPath = process.env.ANVIL_LAB_MANIFEST ?? path.resolve("test-results/lab.json");

async function trpcQuery<T>(page: Page, proc: string, input: unknown): Promise<T> {
  const res = await page.request.get(`/api/trpc/${proc}?input=${encodeURIComponent(JSON.stringify({ json: input }))}`);
  expect(res.ok(), `${proc} → ${res.status()}`).toBe(true);
  return (await res.json()).result.data.json as T;
}
const trpcMutation = (page: Page, proc: string, input: unknown) => page.request.post(`/api/trpc/${proc}`, { data: { json: input } });
async function nodeByName(page: Page, name: string): Promise<{ id: string; name: string } | undefined> {
  const r = await trpcQuery<{ items: { id: string; name: string }[] }>(page, "nodes.list", { q: name, includeChildren: true, limit: 50 });
  return r.items.find((n) => n.name === name);
}

/** What the lab BMC at this address did, read behind Anvil's back (the Redfish simulator's admin API). */
async function labBmc(page: Page, lab: LabManifest, address: string) {
  const list = await (await page.request.get(`${lab.redfishAdminUrl}/admin/bmcs?kind=host&limit=1000`)).json();
  const b = (list.items as { id: string; address: string }[]).find((x) => x.address === address);
  expect(b, `the lab has a BMC at ${address}`).toBeTruthy();
  return (await page.request.get(`${lab.redfishAdminUrl}/admin/bmcs/${encodeURIComponent(b!.id)}`)).json();
}

let enrolled: string | undefined;
test.afterAll(async ({ browser }) => {
  if (!enrolled) return;
  const page = await browser.newPage();
  await loginAs(page, "operatorAdmin", /\/ops$/);
  const n = await nodeByName(page, enrolled);
  if (n) expect((await trpcMutation(page, "nodes.delete", { id: n.id })).ok()).toBe(true);
  await page.close();
});

test("an operator boots a host once from an ISO; a bad image URL is refused and leaves the host as it was", async ({ page }) => {
  test.setTimeout(180_000);
  const lab = JSON.parse(fs.readFileSync(manifestPath, "utf8")) as LabManifest;
  await loginAs(page, "operatorAdmin", /\/ops$/);
  // A spare host from the end of the lab (the hardware-ops spec takes its spares from the start).
  let h: LabHost | undefined;
  for (const x of [...lab.hosts].reverse()) {
    if (!(await nodeByName(page, x.name))) {
      h = x;
      break;
    }
  }
  expect(h, "the lab leaves a host unenrolled").toBeTruthy();
  const host = h!;
  const res = await trpcMutation(page, "nodes.enroll", {
    name: host.name,
    driver: "redfish",
    address: host.bmc_address,
    username: host.bmc_username,
    password: host.bmc_password,
    verifyTls: false,
  });
  expect(res.ok(), `enroll → ${res.status()}`).toBe(true);
  enrolled = host.name;

  await page.goto(`/ops/nodes/${(await nodeByName(page, host.name))!.id}`);
  await expect(page.getByRole("heading", { name: host.name, level: 1 })).toBeVisible();
  const ops = page.getByRole("region", { name: "Recent operations" });
  const bootOps = ops.getByRole("region", { name: `Operation node.virtual_media_boot · ${host.name}` });
  const open = async () => {
    await page.getByRole("button", { name: "Boot from ISO" }).click();
    return page.getByRole("dialog", { name: `Boot ${host.name} from an ISO` });
  };

  // Off the management network: refused on the field, nothing started.
  let dialog = await open();
  await dialog.getByLabel("ISO URL").fill("http://169.254.169.254/rescue.iso");
  await dialog.getByRole("button", { name: "Boot from ISO" }).click();
  await expect(dialog.getByText(/not on the management network/)).toBeVisible();
  page.once("dialog", (d) => d.accept()); // "Discard unsaved changes?"
  await dialog.getByRole("button", { name: "Cancel" }).click();
  await expect(dialog).toBeHidden();
  await expect(bootOps).toHaveCount(0);

  // An image the BMC cannot fetch: the operation fails with the BMC's reason; nothing stays mounted, the host stays off.
  dialog = await open();
  await dialog.getByLabel("ISO URL").fill("http://127.0.0.1:9/rescue.iso");
  await dialog.getByRole("button", { name: "Boot from ISO" }).click();
  await expect(toast(page, `Boot of ${host.name} from the ISO started.`)).toBeVisible();
  await expect(bootOps.first()).toContainText("failed", { timeout: 60_000 });
  await expect(bootOps.first()).toContainText(/could not be established \(ECONNREFUSED\)/);
  expect(await labBmc(page, lab, host.bmc_address)).toMatchObject({ powerState: "Off", virtualMedia: null });

  // A served image (Anvil's own icon stands in for an ISO: the lab BMC only checks that it can fetch it).
  // On 127.0.0.1, not localhost: the management network (ANVIL_MGMT_ALLOW) is 127.0.0.0/8, and localhost may be ::1.
  const iso = `http://127.0.0.1:${new URL(page.url()).port}/icon.svg`;
  dialog = await open();
  await dialog.getByLabel("ISO URL").fill(iso);
  await dialog.getByRole("button", { name: "Boot from ISO" }).click();
  await expect(bootOps.first()).toContainText("succeeded", { timeout: 90_000 });
  await expect(page.getByRole("table", { name: `Recent events of ${host.name}` })).toContainText(`Booted once from ${iso}`);
  expect(await labBmc(page, lab, host.bmc_address)).toMatchObject({ powerState: "On", bootedFrom: "Cd", bootProgress: "OSRunning", virtualMedia: null });
});
