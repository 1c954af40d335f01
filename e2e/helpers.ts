// E2E helpers: sign in as a demo role through the real login form.
import { expect, type Page } from "@playwright/test";

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
