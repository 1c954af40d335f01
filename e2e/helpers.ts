// E2E helpers: sign in as a demo role through the real login form.
import { expect, type Locator, type Page } from "@playwright/test";

export const PASSWORD = "anvil-demo-pass";
export const users = {
  operatorAdmin: "admin@anvil.local",
  operatorViewer: "viewer@anvil.local",
  acmeAdmin: "alice@acme.example",
  acmeMember: "bob@acme.example",
  globexAdmin: "carol@globex.example",
  globexMember: "dave@globex.example",
  both: "erin@example.com",
} as const;
export type DemoRole = keyof typeof users;

export async function loginAs(page: Page, role: DemoRole, landing?: RegExp) {
  await page.goto("/login");
  await page.getByLabel("Email").fill(users[role]);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
  await expect(page).toHaveURL(landing ?? /\/(ops|t\/[a-z0-9-]+)$/);
}

/** Selects the first option whose text matches (selectOption only takes exact labels). */
export async function selectMatching(select: Locator, re: RegExp) {
  await expect(select.locator("option", { hasText: re }).first()).toBeAttached();
  const value = await select.locator("option", { hasText: re }).first().getAttribute("value");
  await select.selectOption(value!);
}

/** Fills acme's create-instance form (debian-12, the first subnet) and submits; lands on the new instance's page. */
export async function createInstance(page: Page, name: string, opts: { pool: string; recovery?: boolean; userData?: string }) {
  await page.goto("/t/acme/instances");
  await page.getByRole("link", { name: "Create instance" }).first().click();
  await expect(page.getByRole("heading", { name: "Create instance" })).toBeVisible();
  await page.getByLabel("Name", { exact: true }).fill(name);
  await page
    .getByRole("radiogroup", { name: "Pool" })
    .getByRole("radio", { name: new RegExp(`^${opts.pool}\\b`) })
    .check();
  await selectMatching(page.getByLabel("Image"), /debian-12/);
  await page.getByLabel("Subnet").selectOption({ index: 1 });
  await expect(page.getByRole("checkbox", { name: /default/ })).toBeChecked();
  if (opts.userData) await page.getByLabel("User data (cloud-init)").fill(opts.userData);
  if (opts.recovery) await page.getByLabel("If the host fails").selectOption("reprovision");
  await expect(page.getByRole("region", { name: "Quota cost" })).toContainText("Instances: +1");
  await page.getByRole("button", { name: "Create instance" }).click();
  await expect(page).toHaveURL(/\/t\/acme\/instances\/[0-9a-f-]{36}$/);
  await expect(page.getByRole("heading", { name })).toBeVisible();
}

/** Opens `path` as served, with JavaScript off, in a context sharing this page's cookies: what shows there was
 *  rendered on the server (a prefetched list's rows, server/api/prefetch.tsx), not fetched by the browser. */
export async function asServed(page: Page, path: string, check: (served: Page) => Promise<void>) {
  const browser = page.context().browser()!;
  const ctx = await browser.newContext({ javaScriptEnabled: false, storageState: await page.context().storageState() });
  try {
    const served = await ctx.newPage();
    await served.goto(path);
    await check(served);
  } finally {
    await ctx.close();
  }
}
