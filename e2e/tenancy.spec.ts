// Tenancy E2E, like a person: an operator creates a tenant and its admin (temporary password shown once) and another
// user's account; the admin signs in and invites that user (an invitation, not a membership) and revokes another
// invitation; the user signs in, finds the invitation and accepts it, and sees the portal; a member of another
// tenant gets not-found for this tenant's pages; suspending the tenant shows the banner and refuses an invitation.
import { expect, type Page, test } from "@playwright/test";
import { confirm, confirmAction, createUser, loginAs, signIn, signOut, submitDialog, takeTemporaryPassword, toast } from "./helpers";

const slug = `e2e-ten-${Date.now().toString(36).slice(-5)}`;
const tenantName = `Tenancy ${slug.slice(-5)}`;
const adminEmail = `admin-${slug}@e2e.example`;
const memberEmail = `member-${slug}@e2e.example`;

const signInWith = (page: Page, email: string, password: string, landing = new RegExp(`/t/${slug}$`)) => signIn(page, email, password, landing);

test("operator creates a tenant and its admin; the admin invites a user who accepts; isolation; suspension", async ({ page }) => {
  // Operator: create the tenant, then invite its first admin from the tenant's page.
  await loginAs(page, "operatorAdmin", /\/ops$/);
  await page.getByRole("link", { name: "Tenants", exact: true }).click();
  await expect(page.getByRole("table", { name: "Tenants" }).getByRole("link", { name: "Acme Corp" })).toBeVisible();
  const create = await submitDialog(page, "Create tenant", { Name: tenantName, Slug: "acme" });
  await expect(create.getByLabel("Slug")).toHaveAccessibleDescription(/A tenant with this slug already exists\./);
  await create.getByLabel("Slug").fill(slug);
  await create.getByRole("button", { name: "Create tenant" }).click();
  await expect(page.getByRole("heading", { name: tenantName })).toBeVisible();
  await expect(page.getByRole("table", { name: "Usage and quota" }).getByRole("row", { name: /VPCs 0 5/ })).toBeVisible();

  await page.getByRole("button", { name: "Add member" }).click();
  const addAdmin = page.getByRole("dialog", { name: `Add a member to ${tenantName}` });
  await addAdmin.getByLabel("Email").fill(adminEmail);
  await addAdmin.getByRole("button", { name: "Add member" }).click();
  // Unknown email without a name: the form says how to invite.
  await expect(addAdmin.getByLabel("Email")).toHaveAccessibleDescription(/Give a name to invite them/);
  await addAdmin.getByLabel("Name").fill("Tess Admin");
  await addAdmin.getByLabel("Role").selectOption("tenant-admin");
  await addAdmin.getByRole("button", { name: "Add member" }).click();
  const adminPassword = await takeTemporaryPassword(page, `Account created for ${adminEmail}`);
  await expect(page.getByRole("table", { name: "Members" }).getByRole("cell", { name: adminEmail, exact: true })).toBeVisible();

  // The operator also creates an account for Max, who belongs to no tenant yet.
  const memberPassword = await createUser(page, memberEmail, "Max Member");
  await signOut(page);

  // The new tenant admin signs in with the temporary password and invites Max: an invitation, not a membership, and
  // the answer says nothing about Max's account.
  await signInWith(page, adminEmail, adminPassword);
  await expect(page.getByRole("heading", { name: tenantName })).toBeVisible();
  await page.getByRole("link", { name: "Members", exact: true }).click();
  await expect(page.getByRole("button", { name: `Remove ${adminEmail}` })).toBeDisabled(); // the last admin stays
  for (const email of [memberEmail, `gone-${slug}@e2e.example`]) {
    await page.getByRole("button", { name: "Invite member" }).click();
    const invite = page.getByRole("dialog", { name: `Invite someone to ${tenantName}` });
    await invite.getByLabel("Email").fill(email);
    await invite.getByRole("button", { name: "Send invitation" }).click();
    await expect(toast(page, `Invitation sent to ${email}; they join when they accept.`)).toBeVisible();
  }
  const pending = page.getByRole("table", { name: "Pending invitations" });
  await expect(pending.getByRole("cell", { name: memberEmail, exact: true })).toBeVisible();
  await expect(page.getByRole("table", { name: "Members" }).getByRole("cell", { name: memberEmail, exact: true })).toBeHidden();
  // The second invitation is revoked, after a confirmation.
  await confirmAction(page, `Revoke the invitation of gone-${slug}@e2e.example`, "Revoke invitation");
  await expect(toast(page, `Invitation of gone-${slug}@e2e.example revoked.`)).toBeVisible();
  await expect(pending.getByRole("cell", { name: `gone-${slug}@e2e.example`, exact: true })).toBeHidden();
  await signOut(page);

  // Max signs in, belongs to no tenant yet and finds the invitation; accepts it from the keyboard and lands in the
  // tenant portal (members listed, management disabled with the reason).
  await signInWith(page, memberEmail, memberPassword, /\/no-access$/);
  await expect(page.getByRole("heading", { name: "No access yet" })).toBeVisible();
  const invitation = page.getByRole("listitem", { name: `Invitation to ${tenantName}` });
  await expect(invitation).toContainText(`${tenantName} invites you as tenant member.`);
  await invitation.getByRole("button", { name: `Accept the invitation to ${tenantName}` }).focus();
  await page.keyboard.press("Enter");
  await expect(page).toHaveURL(new RegExp(`/t/${slug}$`));
  await expect(page.getByRole("heading", { name: tenantName })).toBeVisible();
  await expect(page.getByText("Tenant member")).toBeVisible();
  await page.getByRole("link", { name: "Members", exact: true }).click();
  await expect(page.getByRole("button", { name: "Invite member" })).toHaveAccessibleDescription(/Only tenant admins can do this/);
  await expect(page.getByRole("table", { name: "Members" }).getByRole("cell", { name: memberEmail, exact: true })).toBeVisible();
  await signOut(page);

  // A member of another tenant: this tenant's pages do not exist for them.
  await loginAs(page, "acmeMember", /\/t\/acme$/);
  for (const path of [`/t/${slug}`, `/t/${slug}/members`, `/t/${slug}/ssh-keys`]) {
    await page.goto(path);
    await expect(page.getByRole("heading", { name: "Page not found" })).toBeVisible();
  }
  await page.goto("/t/acme");
  await signOut(page);

  // Operator suspends the tenant.
  await loginAs(page, "operatorAdmin", /\/ops$/);
  await page.getByRole("link", { name: "Tenants", exact: true }).click();
  await page.getByLabel("Filter tenants").fill(slug);
  await page.getByRole("table", { name: "Tenants" }).getByRole("link", { name: tenantName }).click();
  await page.getByRole("button", { name: "Suspend" }).click();
  await confirm(page, `Suspend ${tenantName}?`, "Suspend tenant");
  await expect(toast(page, `Tenant ${tenantName} suspended.`)).toBeVisible();
  await expect(page.getByText("Suspended", { exact: true })).toBeVisible();
  await signOut(page);

  // The member sees the banner; the admin's create is refused with the reason.
  await signInWith(page, memberEmail, memberPassword);
  await expect(toast(page, "This tenant is suspended")).toBeVisible();
  await signOut(page);
  await signInWith(page, adminEmail, adminPassword);
  await expect(toast(page, "This tenant is suspended")).toBeVisible();
  await page.getByRole("link", { name: "Members", exact: true }).click();
  await page.getByRole("button", { name: "Invite member" }).click();
  const refused = page.getByRole("dialog", { name: `Invite someone to ${tenantName}` });
  await refused.getByLabel("Email").fill(`late-${slug}@e2e.example`);
  await refused.getByLabel("Name").fill("Too Late");
  await refused.getByRole("button", { name: "Send invitation" }).click();
  await expect(refused.getByRole("alert")).toHaveText(
    new RegExp(`Tenant ${tenantName} is suspended: nothing new can be created until an operator resumes it\\.`),
  );
});

test("a user adds an SSH key (bad ones refused on the field) and creates and revokes an API token", async ({ page }) => {
  await loginAs(page, "acmeMember", /\/t\/acme$/);
  await page.getByRole("link", { name: "SSH keys", exact: true }).click();
  await page.getByRole("button", { name: "Add SSH key" }).click();
  const dialog = page.getByRole("dialog", { name: "Add SSH key" });
  await dialog.getByLabel("Name").fill("laptop");
  await dialog.getByLabel("Public key").fill("ssh-dss AAAAB3NzaC1kc3M= old");
  await dialog.getByRole("button", { name: "Add key" }).click();
  await expect(dialog.getByLabel("Public key")).toHaveAccessibleDescription(/Unsupported key type "ssh-dss"/);
  const key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIPlz9WJjHHLaqCmtJ7ZBtRHtZsTsRcyWh7CJEpS2pdCS e2e@test";
  await dialog.getByLabel("Public key").fill(key);
  await dialog.getByRole("button", { name: "Add key" }).click();
  const table = page.getByRole("table", { name: "SSH keys" });
  await expect(table.getByRole("cell", { name: "laptop", exact: true })).toBeVisible();
  await expect(table.getByRole("cell", { name: /^SHA256:/ })).toBeVisible();

  await page.getByRole("link", { name: "API tokens" }).click();
  await page.getByRole("button", { name: "Create token" }).click();
  const tok = page.getByRole("dialog", { name: "Create API token" });
  await tok.getByLabel("Name").fill("ci");
  await expect(tok.getByLabel("Scope")).toHaveValue("t:acme:tenant-member");
  await tok.getByRole("button", { name: "Create token" }).click();
  const shown = page.getByRole("dialog", { name: "Token ci created" });
  await expect(shown.getByLabel("API token")).toHaveValue(/^anv_[0-9a-f]{24}_/);
  await shown.getByRole("button", { name: "Done" }).click();
  const tokens = page.getByRole("table", { name: "API tokens" });
  await expect(tokens.getByRole("cell", { name: "active" })).toBeVisible();
  await page.getByRole("button", { name: "Revoke token ci" }).click();
  await page.getByRole("dialog", { name: "Revoke token ci?" }).getByRole("button", { name: "Revoke token" }).click();
  await expect(tokens.getByRole("cell", { name: "revoked" })).toBeVisible();
});

test("operator admin creates a user, resets their password and disables them; can't disable themselves", async ({ page }) => {
  const email = `user-${slug}@e2e.example`;
  await loginAs(page, "operatorAdmin", /\/ops$/);
  await page.getByRole("link", { name: "Users", exact: true }).click();
  await expect(page.getByRole("button", { name: "Disable admin@anvil.local" })).toHaveAccessibleDescription(/can't disable your own account/);
  const create = await submitDialog(page, "Create user", { Email: "alice@acme.example", Name: "Dup" });
  await expect(create.getByLabel("Email")).toHaveAccessibleDescription(/A user with this email already exists\./);
  await create.getByLabel("Email").fill(email);
  await create.getByRole("button", { name: "Create user" }).click();
  const first = await takeTemporaryPassword(page, `${email} created`);

  await page.getByLabel("Filter users").fill(email);
  await page.getByRole("button", { name: `Reset password of ${email}` }).click();
  await confirm(page, `Reset the password of ${email}?`, "Reset password");
  const second = await takeTemporaryPassword(page, `New password for ${email}`);
  expect(second).not.toBe(first);

  await confirmAction(page, `Disable ${email}`, "Disable user");
  await expect(toast(page, `${email} disabled and signed out everywhere.`)).toBeVisible();
  await expect(page.getByRole("table", { name: "Users" }).getByRole("cell", { name: "Disabled", exact: true })).toBeVisible();
  await signOut(page);

  // Disabled: sign-in refused with the reason. Enabled again: the reset password works (the first one does not).
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(second);
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
  await expect(page.getByRole("alert").filter({ hasText: "This account is disabled. Ask an operator to enable it." })).toBeVisible();
  await loginAs(page, "operatorAdmin", /\/ops$/);
  await page.getByRole("link", { name: "Users", exact: true }).click();
  await page.getByLabel("Filter users").fill(email);
  await page.getByRole("button", { name: `Enable ${email}` }).click();
  await expect(toast(page, `${email} enabled.`)).toBeVisible();
  await signOut(page);
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(second);
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
  await expect(page.getByRole("heading", { name: "No access yet" })).toBeVisible();
});
