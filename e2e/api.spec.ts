// The public API as people use it: a tenant makes an API token in the browser, a script (the `anvil` CLI, a real
// child process) drives an instance with it — create to running, list, stop, delete — and the API reference page
// reads well in Chromium.
import { execFile } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { expect, test } from "@playwright/test";
import { baseURL } from "../playwright.config";
import { loginAs } from "./helpers";

const run = promisify(execFile);
const home = fs.mkdtempSync(path.join(os.tmpdir(), "anvil-e2e-cli-"));

async function anvil(token: string, ...args: string[]) {
  return run(process.execPath, ["bin/anvil.mjs", ...args], {
    env: { PATH: process.env.PATH ?? "", HOME: home, ANVIL_URL: baseURL, ANVIL_TOKEN: token, ANVIL_TENANT: "acme" } as unknown as NodeJS.ProcessEnv,
    timeout: 240_000,
  });
}

test("an API token made in the browser drives an instance from a script (the anvil CLI)", async ({ page }) => {
  test.setTimeout(300_000);
  await loginAs(page, "acmeAdmin", /\/t\/acme$/);
  await page.getByRole("link", { name: "API tokens" }).click();
  await page.getByRole("button", { name: "Create token" }).click();
  const dialog = page.getByRole("dialog", { name: "Create API token" });
  const name = `script-${Date.now().toString(36)}`;
  await dialog.getByLabel("Name").fill(name);
  await dialog.getByRole("button", { name: "Create token" }).click();
  const shown = page.getByRole("dialog", { name: `Token ${name} created` });
  const token = await shown.getByLabel("API token").inputValue();
  expect(token).toMatch(/^anv_/);
  await shown.getByRole("button", { name: "Done" }).click();

  const server = `api-${Date.now().toString(36)}`;
  let created = true; // until deleted below (a create that failed half-way may still have made it)
  try {
    const made = await anvil(token, "instance", "create", server, "--pool", "general", "--image", "debian-12", "--subnet", "default", "--wait");
    expect(made.stdout).toMatch(/state\s+running/);
    expect(made.stderr).toMatch(/\[done\]/);
    const list = JSON.parse((await anvil(token, "instance", "list", "--json")).stdout) as { name: string; state: string }[];
    expect(list.find((i) => i.name === server)).toMatchObject({ state: "running" });

    // What the script did shows in the browser (tokens live under the account pages; go back to the portal).
    await page.goto("/t/acme/instances");
    await expect(page.getByRole("row", { name: new RegExp(server) })).toContainText("running");

    await anvil(token, "instance", "stop", server, "--force", "--wait");
    await expect(page.getByRole("row", { name: new RegExp(server) })).toContainText("stopped", { timeout: 20_000 });
    const refused = await anvil(token, "instance", "get", "no-such-server").catch((e: { code: number; stderr: string }) => e);
    expect(refused).toMatchObject({ code: 4, stderr: expect.stringContaining("no instance named no-such-server") });
    await anvil(token, "instance", "delete", server, "--wait");
    created = false;
    await expect(page.getByRole("row", { name: new RegExp(server) })).toHaveCount(0, { timeout: 20_000 });
  } finally {
    // Leave acme's quota as the other specs expect it, whatever failed above.
    if (created) await anvil(token, "instance", "delete", server, "--wait").catch(() => undefined);
  }
});

test("the API reference page lists every resource and operation", async ({ page }) => {
  await page.goto("/api/v1/docs");
  await expect(page.getByRole("heading", { name: "Anvil API reference", level: 1 })).toBeVisible();
  const nav = page.getByRole("navigation", { name: "Resources" });
  for (const r of ["instances", "volumes", "vpcs", "securityGroups", "nodes", "tenants"])
    await expect(nav.getByRole("link", { name: r, exact: true })).toBeVisible();
  await nav.getByRole("link", { name: "instances", exact: true }).click();
  const create = page.locator("#createInstance");
  await expect(create).toContainText("POST");
  await expect(create).toContainText("/api/v1/tenants/{tenant}/instances");
  await expect(create.getByRole("cell", { name: "Idempotency-Key" })).toBeVisible();
  await expect(create.getByRole("cell", { name: "poolId" })).toBeVisible();
  const doc = await (await page.request.get("/api/v1/openapi.json")).json();
  expect(doc.openapi).toBe("3.1.0");
});
