// Single sign-on E2E, like a person: "Sign in with Lab IdP" on Anvil's login page, the lab OpenID Connect provider's
// own login page (scripts/oidc-dev-provider.ts, started beside Anvil by scripts/e2e-server.sh), and back in Anvil
// with what the person's groups map to: a developer of Acme lands in Acme's portal as a tenant member, an operator
// group lands in the operator console; someone in no mapped group is told why on the login page. SSO-only accounts
// have no Anvil password to change.
import { expect, type Page, test } from "@playwright/test";

async function signInAtIdp(page: Page, login: string) {
  await page.goto("/login");
  await page.getByRole("button", { name: "Sign in with Lab IdP" }).click();
  // The provider's login page (oidc-provider's development login form: any password).
  await expect(page).toHaveURL(/^http:\/\/127\.0\.0\.1:\d+\/interaction\//);
  await page.getByPlaceholder("Enter any login").fill(login);
  await page.getByPlaceholder("and password").fill("lab password");
  await page.getByRole("button", { name: "Sign-in" }).click();
}

test("a developer in the IdP's acme-devs group signs in with SSO and lands in Acme's portal as a member", async ({ page }) => {
  await signInAtIdp(page, "sso.dev");
  await expect(page).toHaveURL(/\/t\/acme$/);
  await expect(page.getByRole("heading", { name: "Acme Corp" })).toBeVisible();
  await expect(page.getByText("Dev Acme (SSO)")).toBeVisible();
  await expect(page.getByText("Tenant member")).toBeVisible();
  // Not an operator: the operator console does not exist for them.
  await page.goto("/ops");
  await expect(page.getByRole("heading", { name: "Page not found" })).toBeVisible();

  // Their password and two-factor live at the IdP.
  await page.goto("/account/security");
  await expect(page.getByText("You sign in with Lab IdP only; your password is managed there.")).toBeVisible();
  await expect(page.getByRole("button", { name: "Turn on two-factor" })).toHaveCount(0);

  await page.getByRole("button", { name: "Sign out", exact: true }).click();
  await expect(page).toHaveURL(/\/login/);
});

test("someone in the IdP's operator group lands in the operator console", async ({ page }) => {
  await signInAtIdp(page, "sso.noc");
  await expect(page).toHaveURL(/\/ops$/);
  await expect(page.getByText("Operator viewer")).toBeVisible();
});

test("someone in no group that Anvil maps is refused, with the reason, and gets no account", async ({ page }) => {
  await signInAtIdp(page, "sso.nobody");
  await expect(page).toHaveURL(/\/login\?error=no_access/);
  await expect(page.getByRole("alert").filter({ hasText: "None of your groups" })).toHaveText(
    "None of your groups at Lab IdP gives access to Anvil. Ask an operator or your identity administrator.",
  );
  await page.goto("/");
  await expect(page).toHaveURL(/\/login/);
});
