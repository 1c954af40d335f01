// E2E helpers: sign in as a demo role through the real login form, and the steps many stories take the same way
// (a toast, a confirm dialog, a form dialog, an operator creating a user).
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

/** Signs in through the login form and waits for the landing page. */
export async function signIn(page: Page, email: string, password: string, landing: RegExp) {
  await page.goto("/login");
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
  await expect(page).toHaveURL(landing);
}

export async function loginAs(page: Page, role: DemoRole, landing?: RegExp) {
  await signIn(page, users[role], PASSWORD, landing ?? /\/(ops|t\/[a-z0-9-]+)$/);
}

/** Clears the session and signs in as another demo role. */
export async function switchTo(page: Page, role: DemoRole, landing?: RegExp) {
  await page.context().clearCookies();
  await loginAs(page, role, landing);
}

export async function signOut(page: Page) {
  // Clicked again while still on the page: on a loaded machine the first click can land before the page hydrated.
  await expect(async () => {
    if (!/\/login/.test(page.url())) await page.getByRole("button", { name: "Sign out", exact: true }).click({ timeout: 5000 });
    await expect(page).toHaveURL(/\/login/, { timeout: 5000 });
  }).toPass({ timeout: 45_000 });
}

/** A toast (a status message) with this text. */
export const toast = (page: Page, text: string | RegExp) => page.getByRole("status").filter({ hasText: text });

/** Answers a confirm dialog: clicks `button` in the dialog named `title`. */
export async function confirm(page: Page, title: string | RegExp, button: string) {
  await page.getByRole("dialog", { name: title }).getByRole("button", { name: button }).click();
}

/** Clicks the button named `action` and confirms its dialog ("<action>?") with `button`. */
export async function confirmAction(page: Page, action: string, button: string) {
  await page.getByRole("button", { name: action }).click();
  await confirm(page, `${action}?`, button);
}

/** A field of a form dialog: text to fill, or the option to select. */
export type DialogField = string | { select: string | { label: string } | { index: number } };

/**
 * Opens a form dialog with the button named `title` (or `opener`), fills its fields by label in order and submits
 * with the dialog's button named `title` (or `submit`). Returns the dialog, to check what it says.
 */
export async function submitDialog(page: Page, title: string, fields: Record<string, DialogField>, opts: { opener?: string; submit?: string } = {}) {
  await page.getByRole("button", { name: opts.opener ?? title }).click();
  const dialog = page.getByRole("dialog", { name: title });
  for (const [label, value] of Object.entries(fields)) {
    if (typeof value === "string") await dialog.getByLabel(label).fill(value);
    else await dialog.getByLabel(label).selectOption(value.select);
  }
  await dialog.getByRole("button", { name: opts.submit ?? title }).click();
  return dialog;
}

/** Reads the one-time temporary password from its dialog, then closes it. */
export async function takeTemporaryPassword(page: Page, title: string): Promise<string> {
  const dialog = page.getByRole("dialog", { name: title });
  await expect(dialog.getByText("This is shown only once.")).toBeVisible();
  const password = await dialog.getByLabel("Temporary password").inputValue();
  expect(password.length).toBeGreaterThanOrEqual(20);
  await dialog.getByRole("button", { name: "Done" }).click();
  await expect(dialog).toBeHidden();
  return password;
}

/** An operator admin creates an account on the Users page; returns its temporary password (shown once). */
export async function createUser(page: Page, email: string, name: string): Promise<string> {
  await page.getByRole("link", { name: "Users", exact: true }).click();
  await submitDialog(page, "Create user", { Email: email, Name: name });
  return takeTemporaryPassword(page, `${email} created`);
}

/** Selects the first option whose text matches (selectOption only takes exact labels). */
export async function selectMatching(select: Locator, re: RegExp) {
  await expect(select.locator("option", { hasText: re }).first()).toBeAttached();
  const value = await select.locator("option", { hasText: re }).first().getAttribute("value");
  await select.selectOption(value!);
}

/**
 * Waits until acme's create form offers the demo image debian-12 in the general pool with a free host: the server seeds
 * the demo images and readies the lab's hosts as it starts, so a spec run alone may otherwise open the form too early.
 */
export async function demoImagesReady(page: Page) {
  await expect(async () => {
    await page.goto("/t/acme/instances/new");
    await page
      .getByRole("radiogroup", { name: "Pool" })
      .getByRole("radio", { name: /^general\b/ })
      .check({ timeout: 3000 }); // disabled while no host of the lab is free yet: try again on a fresh page
    await expect(page.getByLabel("Image").locator("option", { hasText: /debian-12/ })).toBeAttached({ timeout: 3000 });
  }).toPass({ timeout: 150_000, intervals: [2000] });
}

/** Fills acme's create-instance form (debian-12, the first subnet) and submits; lands on the new instance's page. */
export async function createInstance(page: Page, name: string, opts: { pool: string; recovery?: boolean; userData?: string; subnet?: RegExp }) {
  await page.goto("/t/acme/instances");
  await page.getByRole("link", { name: "Create instance" }).first().click();
  await expect(page.getByRole("heading", { name: "Create instance" })).toBeVisible();
  await page.getByLabel("Name", { exact: true }).fill(name);
  await page
    .getByRole("radiogroup", { name: "Pool" })
    .getByRole("radio", { name: new RegExp(`^${opts.pool}\\b`) })
    .check();
  await selectMatching(page.getByLabel("Image"), /debian-12/);
  if (opts.subnet) await selectMatching(page.getByLabel("Subnet"), opts.subnet);
  else await page.getByLabel("Subnet").selectOption({ index: 1 });
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
