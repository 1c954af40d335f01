// Networks E2E: a tenant admin creates a VPC (a public range is a field error first), a subnet inside it, and a
// security group with an SSH rule (tcp 22 from 0.0.0.0/0; an out-of-order port range is a field error first); a member
// of another tenant gets the not-found page for those URLs, under either tenant's path. The operator sees the VPC.
// Dual stack: a tenant makes a VPC with an IPv6 range and a dual-stack subnet in it (an IPv6 range outside the VPC's
// is a field error first), creates an instance on it in the lab, and sees its IPv6 address on the instance page.
import { expect, test } from "@playwright/test";
import { createInstance, loginAs, signOut, submitDialog, toast } from "./helpers";

test("tenant admin builds a network and an SSH rule; another tenant gets not-found", async ({ page }) => {
  await loginAs(page, "acmeAdmin", /\/t\/acme$/);
  await page.getByRole("link", { name: "Networks", exact: true }).click();
  await expect(page.getByRole("heading", { name: "Networks" })).toBeVisible();

  // VPC: a public range is refused on the field, then a private one is created.
  const vpcDialog = await submitDialog(page, "Create VPC", { Name: "e2e-net", "IPv4 range": "8.8.0.0/16" });
  await expect(vpcDialog.getByLabel("IPv4 range")).toHaveAccessibleDescription(/not a private range/);
  await vpcDialog.getByLabel("IPv4 range").fill("10.77.0.0/16");
  await vpcDialog.getByRole("button", { name: "Create VPC" }).click();
  await expect(toast(page, /VPC e2e-net created \(VNI \d+\)\./)).toBeVisible();
  const vpcs = page.getByRole("table", { name: "VPCs" });
  await expect(vpcs.getByRole("cell", { name: "10.77.0.0/16" })).toBeVisible();

  // Subnet inside it: outside the VPC is a field error; then created with the first usable address as gateway.
  await vpcs.getByRole("link", { name: "e2e-net" }).click();
  await expect(page.getByRole("heading", { name: "VPC e2e-net" })).toBeVisible();
  const vpcUrl = page.url();
  const subDialog = await submitDialog(page, "Create subnet", { Name: "web", "Subnet range": "10.78.1.0/24" });
  await expect(subDialog.getByLabel("Subnet range")).toHaveAccessibleDescription(/not inside the VPC's range 10\.77\.0\.0\/16/);
  await subDialog.getByLabel("Subnet range").fill("10.77.1.0/24");
  await subDialog.getByRole("button", { name: "Create subnet" }).click();
  await expect(toast(page, "Subnet web created (gateway 10.77.1.1).")).toBeVisible();
  const subnets = page.getByRole("table", { name: "Subnets" });
  await expect(subnets.getByRole("cell", { name: "10.77.1.0/24" })).toBeVisible();
  await expect(subnets.getByRole("cell", { name: "0 used · 253 free" })).toBeVisible();

  // Security group with an SSH rule.
  await page.getByRole("link", { name: "Security groups", exact: true }).click();
  await submitDialog(page, "Create security group", { VPC: { select: { label: "e2e-net" } }, Name: "ssh" });
  await expect(toast(page, "Security group ssh created.")).toBeVisible();
  await page.getByRole("table", { name: "Security groups" }).getByRole("link", { name: "ssh", exact: true }).click();
  await expect(page.getByRole("heading", { name: "Security group ssh" })).toBeVisible();
  const sgUrl = page.url();
  const editor = page.getByRole("region", { name: "Add a rule" });
  await editor.getByLabel("Protocol").selectOption("tcp");
  await editor.getByLabel("First port").fill("30");
  await editor.getByLabel("Last port").fill("20");
  await editor.getByRole("button", { name: "Add rule" }).click();
  await expect(editor.getByLabel("Last port")).toHaveAccessibleDescription(/before the first/);
  await editor.getByLabel("First port").fill("22");
  await editor.getByLabel("Last port").fill("22");
  await editor.getByLabel("Remote CIDR").fill("0.0.0.0/0");
  await editor.getByRole("button", { name: "Add rule" }).click();
  await expect(toast(page, "Rule added")).toBeVisible();
  const rules = page.getByRole("table", { name: "Rules" });
  const ssh = rules.getByRole("row").filter({ hasText: "0.0.0.0/0" });
  await expect(ssh.getByRole("cell", { name: "22", exact: true })).toBeVisible();
  await expect(ssh.getByRole("cell", { name: "tcp", exact: true })).toBeVisible();

  // Deleting a VPC that has a subnet is disabled with the reason.
  await page.goto(vpcUrl.replace(/\/networks\/.*$/, "/networks"));
  await expect(page.getByRole("button", { name: "Delete VPC e2e-net" })).toHaveAccessibleDescription(/still has 1 subnet/);

  await signOut(page);

  // A member of another tenant: not found under acme's path, and not found under their own tenant's path.
  await loginAs(page, "globexMember", /\/t\/globex$/);
  for (const url of [vpcUrl, sgUrl, vpcUrl.replace("/t/acme/", "/t/globex/"), sgUrl.replace("/t/acme/", "/t/globex/")]) {
    await page.goto(url);
    await expect(page.getByRole("heading", { name: "Page not found" })).toBeVisible();
  }
  await page.goto("/t/globex/networks");
  await expect(page.getByRole("table", { name: "VPCs" }).getByRole("cell", { name: "10.77.0.0/16" })).toHaveCount(0);
});

test("operators see every tenant's VPCs and how provider networks serve floating IPs", async ({ page }) => {
  await loginAs(page, "operatorViewer", /\/ops$/);
  await page.goto("/ops/networks");
  await expect(page.getByRole("heading", { name: "Networks", exact: true })).toBeVisible();
  await expect(page.getByText("Tenants allocate floating IPs from a provider network once its gateway and gateway MAC are set")).toBeVisible();
  await expect(page.getByRole("button", { name: "Create provider network" })).toHaveAccessibleDescription(/Operator viewers can look but not change anything/);
  await page.getByLabel("Tenant (slug)").fill("acme");
  await expect(page.getByRole("button", { name: "Allow public ranges" })).toHaveAccessibleDescription(/Operator viewers can look but not change anything/);
});

test("a tenant makes a dual-stack subnet; an instance on it shows its IPv6 address beside the IPv4 one", async ({ page }) => {
  test.setTimeout(180_000);
  const suffix = Math.random().toString(36).slice(2, 6);
  const vpc = `ds-${suffix}`;
  await loginAs(page, "acmeAdmin", /\/t\/acme$/);
  await page.goto("/t/acme/networks");
  await submitDialog(page, "Create VPC", { Name: vpc, "IPv4 range": "10.79.0.0/16", "IPv6 range (optional)": "fd00:79::/48" });
  await expect(toast(page, new RegExp(`VPC ${vpc} created`))).toBeVisible();
  await page.getByRole("table", { name: "VPCs" }).getByRole("link", { name: vpc }).click();
  await expect(page.getByRole("heading", { name: `VPC ${vpc}` })).toBeVisible();

  const v6Field = "IPv6 CIDR (optional)";
  const dialog = await submitDialog(page, "Create subnet", { Name: "web", "Subnet range": "10.79.1.0/24", [v6Field]: "fd00:80:0:1::/64" });
  await expect(dialog.getByLabel(v6Field)).toHaveAccessibleDescription(/not inside the VPC's IPv6 range fd00:79::\/48/);
  await dialog.getByLabel(v6Field).fill("fd00:79:0:1::/64");
  await dialog.getByRole("button", { name: "Create subnet" }).click();
  await expect(toast(page, "Subnet web created (gateway 10.79.1.1).")).toBeVisible();
  const row = page.getByRole("table", { name: "Subnets" }).getByRole("row").filter({ hasText: "10.79.1.0/24" });
  await expect(row).toContainText("fd00:79:0:1::/64");
  await expect(row).toContainText("fd00:79:0:1::1");

  await createInstance(page, `v6-${suffix}`, { pool: "general", subnet: new RegExp(`^${vpc} / web `) });
  const details = page.getByRole("region", { name: "Instance details" });
  await expect(details.getByTitle(/^State: running/)).toBeVisible({ timeout: 90_000 });
  await expect(page.getByTestId("instance-address")).toHaveText(/^10\.79\.1\.\d+$/);
  await expect(page.getByTestId("instance-ipv6-address")).toHaveText(/^fd00:79:0:1::[0-9a-f]+$/);
  const v6 = await page.getByTestId("instance-ipv6-address").textContent();
  await expect(page.getByRole("table", { name: "NICs" }).getByRole("row").filter({ hasText: "eth0" })).toContainText(v6!);

  // The host goes back to the pool for the other tests.
  await page.getByRole("button", { name: "Delete" }).click();
  await page.getByRole("dialog").getByRole("button", { name: "Delete instance" }).click();
  await expect(page).toHaveURL(/\/t\/acme\/instances$/);
});
