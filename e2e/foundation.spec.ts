// Foundation E2E: sign-in per role, pools create/edit/delete, viewer refused (UI and server),
// tenant users get not-found under /ops, tenant switching, theme, sign-out.
import { expect, test } from "@playwright/test";
import { loginAs, signOut, submitDialog, toast } from "./helpers";

test("each role signs in and lands where it works", async ({ page }) => {
  await loginAs(page, "operatorAdmin", /\/ops$/);
  await expect(page.getByRole("navigation", { name: "Operator console navigation" })).toBeVisible();
  await expect(page.getByText("Operator admin")).toBeVisible();
  await signOut(page);

  await loginAs(page, "operatorViewer", /\/ops$/);
  await expect(page.getByText("Operator viewer")).toBeVisible();
  await signOut(page);

  await loginAs(page, "acmeAdmin", /\/t\/acme$/);
  await expect(page.getByRole("heading", { name: "Acme Corp" })).toBeVisible();
  await expect(page.getByText("Tenant admin")).toBeVisible();
  await signOut(page);

  await loginAs(page, "acmeMember", /\/t\/acme$/);
  await expect(page.getByText("Tenant member")).toBeVisible();
});

test("wrong password shows a clear error and stays on the login page", async ({ page }) => {
  await page.goto("/login");
  await page.getByLabel("Email").fill("admin@anvil.local");
  await page.getByLabel("Password").fill("not the password");
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
  await expect(page.getByRole("alert").filter({ hasText: "Wrong email or password." })).toBeVisible();
  await expect(page).toHaveURL(/\/login/);
});

test("operator admin creates, edits and deletes a pool; a duplicate name is a field error", async ({ page }) => {
  await loginAs(page, "operatorAdmin");
  await page.getByRole("link", { name: "Pools", exact: true }).click();
  await expect(page.getByRole("table", { name: "Pools" }).getByRole("cell", { name: "general", exact: true })).toBeVisible();

  const dialog = await submitDialog(page, "Create pool", { Name: "Bad Name" });
  await expect(dialog.getByLabel("Name")).toHaveAccessibleDescription(/start and end with a letter or digit/);
  await expect(dialog.getByLabel("Name")).toHaveAttribute("aria-invalid", "true");
  await dialog.getByLabel("Name").fill("e2e-edge");
  await dialog.getByLabel("Resource class").fill("bm.edge");
  await dialog.getByLabel("Description").fill("Edge sites");
  await dialog.getByRole("button", { name: "Create pool" }).click();
  await expect(toast(page, "Pool e2e-edge created.")).toBeVisible();
  const table = page.getByRole("table", { name: "Pools" });
  await expect(table.getByRole("cell", { name: "e2e-edge", exact: true })).toBeVisible();

  // Duplicate name (different case) lands on the Name field.
  await page.getByRole("button", { name: "Create pool" }).click();
  await dialog.getByLabel("Name").fill("general");
  await dialog.getByRole("button", { name: "Create pool" }).click();
  await expect(dialog.getByLabel("Name")).toHaveAccessibleDescription(/A pool with this name already exists\./);
  page.once("dialog", (d) => d.accept()); // "Discard unsaved changes?"
  await dialog.getByRole("button", { name: "Cancel" }).click();
  await expect(dialog).toBeHidden();

  await page.getByRole("button", { name: "Edit pool e2e-edge" }).click();
  const edit = page.getByRole("dialog", { name: "Edit pool e2e-edge" });
  await edit.getByLabel("Description").fill("Edge sites, renamed");
  await edit.getByRole("button", { name: "Save" }).click();
  await expect(table.getByRole("cell", { name: "Edge sites, renamed" })).toBeVisible();

  // Server-side filter.
  await page.getByLabel("Filter pools").fill("edge");
  await expect(table.getByRole("cell", { name: "general", exact: true })).toBeHidden();
  await expect(table.getByRole("cell", { name: "e2e-edge", exact: true })).toBeVisible();

  await page.getByRole("button", { name: "Delete pool e2e-edge" }).click();
  const confirm = page.getByRole("dialog", { name: "Delete pool e2e-edge?" });
  await confirm.getByRole("button", { name: "Delete pool" }).click();
  await expect(toast(page, "Pool e2e-edge deleted.")).toBeVisible();
  await expect(table.getByRole("cell", { name: "e2e-edge", exact: true })).toBeHidden();

  // Every change is in the audit log.
  await page.getByRole("link", { name: "Audit", exact: true }).click();
  const audit = page.getByRole("table", { name: "Audit events" });
  for (const action of ["pool.create", "pool.update", "pool.delete"]) await expect(audit.getByText(action).first()).toBeVisible();
});

test("operator viewer sees the create button disabled with the reason, and the server refuses", async ({ page }) => {
  await loginAs(page, "operatorViewer");
  await page.goto("/ops/pools");
  const create = page.getByRole("button", { name: "Create pool" });
  await expect(create).toBeDisabled();
  await expect(create).toHaveAccessibleDescription(/Operator viewers can look but not change anything/);
  await create.click({ force: true });
  await expect(page.getByRole("dialog", { name: "Create pool" })).toBeHidden();
  const res = await page.request.post("/api/trpc/pools.create", { data: { json: { name: "viewer-made", resourceClass: "bm.x" } } });
  expect(res.status()).toBe(403);
  expect(JSON.stringify(await res.json())).toContain("Operator viewers can look but not change anything");
});

test("tenant users get the not-found page under /ops and for another tenant", async ({ page }) => {
  await loginAs(page, "acmeMember");
  await page.goto("/ops");
  await expect(page.getByRole("heading", { name: "Page not found" })).toBeVisible();
  await page.goto("/ops/pools");
  await expect(page.getByRole("heading", { name: "Page not found" })).toBeVisible();
  await page.goto("/t/globex");
  await expect(page.getByRole("heading", { name: "Page not found" })).toBeVisible();
  const res = await page.request.get(`/api/trpc/pools.list?input=${encodeURIComponent(JSON.stringify({ json: {} }))}`);
  expect(res.status()).toBe(404);
});

test("a member of two tenants switches between them", async ({ page }) => {
  await loginAs(page, "both", /\/t\/acme$/);
  await page.getByRole("combobox", { name: "Tenant" }).selectOption("globex");
  await expect(page).toHaveURL(/\/t\/globex$/);
  await expect(page.getByRole("heading", { name: "Globex" })).toBeVisible();
  // The choice is remembered: "/" lands on the last tenant.
  await page.goto("/");
  await expect(page).toHaveURL(/\/t\/globex$/);
});

test("the portal's sections are reachable from the navigation; theme toggles; sign-out ends the session", async ({ page }) => {
  await loginAs(page, "acmeAdmin", /\/t\/acme$/);
  await page.getByRole("link", { name: "Instances", exact: true }).click();
  await expect(page.getByRole("heading", { name: "Instances", level: 1 })).toBeVisible();
  await expect(page.getByRole("link", { name: "Create instance" }).first()).toBeVisible();
  const html = page.locator("html");
  const wasDark = (await html.getAttribute("class"))?.includes("dark") ?? false;
  await page.getByRole("button", { name: wasDark ? "Switch to light theme" : "Switch to dark theme" }).click();
  if (wasDark) await expect(html).not.toHaveClass(/dark/);
  else await expect(html).toHaveClass(/dark/);
  await signOut(page);
  await page.goto("/ops/pools");
  await expect(page).toHaveURL(/\/login\?next=\/ops/);
});
