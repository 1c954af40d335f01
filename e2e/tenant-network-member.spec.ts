// The networks-and-tenancy flow end to end, as the issue states it: a tenant admin creates a VPC, a subnet and a
// security group with an SSH rule, invites a person who has an account (made by an operator), the person signs in,
// accepts the invitation and sees them; a member of another tenant gets not-found for their URLs.
import { expect, test } from "@playwright/test";
import { createUser, loginAs, signIn, signOut, submitDialog, toast } from "./helpers";

const tag = Date.now().toString(36).slice(-5);
const vpcName = `flow-${tag}`;
const memberEmail = `flow-${tag}@e2e.example`;

test("tenant admin builds a network, invites a member who accepts and sees it; another tenant's member gets not-found", async ({ page }) => {
  // An operator made the future member's account; it belongs to no tenant yet.
  await loginAs(page, "operatorAdmin", /\/ops$/);
  const password = await createUser(page, memberEmail, "Flow Member");
  await signOut(page);

  await loginAs(page, "globexAdmin", /\/t\/globex$/);
  await page.getByRole("link", { name: "Networks", exact: true }).click();
  await submitDialog(page, "Create VPC", { Name: vpcName, "IPv4 range": "10.91.0.0/16" });
  await expect(toast(page, new RegExp(`VPC ${vpcName} created`))).toBeVisible();
  await page.getByRole("table", { name: "VPCs" }).getByRole("link", { name: vpcName }).click();
  await expect(page.getByRole("heading", { name: `VPC ${vpcName}` })).toBeVisible();
  const vpcUrl = page.url();
  await submitDialog(page, "Create subnet", { Name: "app", "Subnet range": "10.91.4.0/24" });
  await expect(toast(page, "Subnet app created (gateway 10.91.4.1).")).toBeVisible();

  await page.getByRole("link", { name: "Security groups", exact: true }).click();
  await submitDialog(page, "Create security group", { VPC: { select: { label: vpcName } }, Name: `ssh-${tag}` });
  await page
    .getByRole("table", { name: "Security groups" })
    .getByRole("link", { name: `ssh-${tag}`, exact: true })
    .click();
  await expect(page.getByRole("heading", { name: `Security group ssh-${tag}` })).toBeVisible();
  const sgUrl = page.url();
  const editor = page.getByRole("region", { name: "Add a rule" });
  await editor.getByLabel("Protocol").selectOption("tcp");
  await editor.getByLabel("First port").fill("22");
  await editor.getByLabel("Last port").fill("22");
  await editor.getByLabel("Remote CIDR").fill("0.0.0.0/0");
  await editor.getByRole("button", { name: "Add rule" }).click();
  await expect(toast(page, "Rule added")).toBeVisible();

  // Invite them: a pending invitation, not yet a member.
  await page.getByRole("link", { name: "Members", exact: true }).click();
  await page.getByRole("button", { name: "Invite member" }).click();
  const invite = page.getByRole("dialog", { name: "Invite someone to Globex" });
  await invite.getByLabel("Email").fill(memberEmail);
  await invite.getByRole("button", { name: "Send invitation" }).click();
  await expect(toast(page, `Invitation sent to ${memberEmail}; they join when they accept.`)).toBeVisible();
  await expect(page.getByRole("table", { name: "Pending invitations" }).getByRole("cell", { name: memberEmail, exact: true })).toBeVisible();
  await signOut(page);

  // The member signs in, accepts the invitation, and sees the VPC, its subnet and the SSH rule.
  await signIn(page, memberEmail, password, /\/no-access$/);
  await page.getByRole("button", { name: "Accept the invitation to Globex" }).click();
  await expect(page).toHaveURL(/\/t\/globex$/);
  await page.getByRole("link", { name: "Networks", exact: true }).click();
  await expect(page.getByRole("table", { name: "VPCs" }).getByRole("cell", { name: "10.91.0.0/16" })).toBeVisible();
  await page.goto(vpcUrl);
  await expect(page.getByRole("table", { name: "Subnets" }).getByRole("cell", { name: "10.91.4.0/24" })).toBeVisible();
  await page.goto(sgUrl);
  await expect(page.getByRole("table", { name: "Rules" }).getByRole("row").filter({ hasText: "0.0.0.0/0" })).toBeVisible();
  await signOut(page);

  // A member of another tenant gets not-found for those URLs.
  await loginAs(page, "acmeMember", /\/t\/acme$/);
  for (const url of [vpcUrl, sgUrl]) {
    await page.goto(url);
    await expect(page.getByRole("heading", { name: "Page not found" })).toBeVisible();
  }
});
