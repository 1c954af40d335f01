// Account security E2E, like a person: a new user changes their temporary password (wrong current password and a
// mistyped repeat are field errors; their other browser is signed out), turns on two-factor (QR code, key, backup
// codes; the code computed here from the key shown, RFC 6238), is asked for a code at the next sign-in (a wrong one
// refused), sees their sessions and signs another browser out; an operator admin signs them out everywhere; they turn
// two-factor off again.
import { createHmac } from "node:crypto";
import { type Browser, expect, type Page, test } from "@playwright/test";
import { confirm, createUser, loginAs, signOut, submitDialog } from "./helpers";

const email = `sec-${Date.now().toString(36)}@e2e.example`;
const NEW_PASSWORD = "a much longer passphrase";

function totp(keyBase32: string, at = Date.now()): string {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  let bits = 0;
  let value = 0;
  const key: number[] = [];
  for (const ch of keyBase32.replace(/[\s=]/g, "").toUpperCase()) {
    value = (value << 5) | alphabet.indexOf(ch);
    bits += 5;
    if (bits >= 8) {
      key.push((value >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(at / 30_000)));
  const h = createHmac("sha1", Buffer.from(key)).update(counter).digest();
  const o = h[h.length - 1]! & 0x0f;
  return String((h.readUInt32BE(o) & 0x7fffffff) % 1_000_000).padStart(6, "0");
}

async function passwordStep(page: Page, password: string) {
  await page.goto("/login");
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
}

async function newBrowser(browser: Browser) {
  const ctx = await browser.newContext();
  return { ctx, page: await ctx.newPage() };
}

test("change password, two-factor, sessions and sign-out everywhere", async ({ page, browser }) => {
  test.setTimeout(240_000); // the longest story: two browsers, a dozen sign-ins and forms
  // An operator admin makes the account (temporary password shown once).
  await loginAs(page, "operatorAdmin", /\/ops$/);
  const temporary = await createUser(page, email, "Sec Urity");
  await signOut(page); // the sign-out navigation ends before the next one starts

  // The user signs in in two browsers.
  await passwordStep(page, temporary);
  await expect(page).toHaveURL(/\/no-access$/);
  const other = await newBrowser(browser);
  await passwordStep(other.page, temporary);
  await expect(other.page).toHaveURL(/\/no-access$/);

  // Change the password, from the keyboard.
  await page.goto("/account/security");
  const form = page.getByRole("form", { name: "Change password" });
  await form.getByLabel("Current password").fill("not my password");
  await form.getByLabel("New password", { exact: true }).fill(NEW_PASSWORD);
  await form.getByLabel("New password again").fill(`${NEW_PASSWORD}!`);
  await form.getByLabel("New password again").press("Enter");
  await expect(form.getByLabel("New password again")).toHaveAccessibleDescription("The two new passwords are not the same");
  await form.getByLabel("New password again").fill(NEW_PASSWORD);
  await form.getByLabel("New password again").press("Enter");
  await expect(form.getByLabel("Current password")).toHaveAccessibleDescription("That is not your current password.");
  await expect(form.getByLabel("Current password")).toBeFocused();
  await form.getByLabel("Current password").fill(temporary);
  await form.getByRole("button", { name: "Change password" }).click();
  await expect(page.getByText("Password changed. Your other sessions were signed out.")).toBeVisible();
  // The other browser was signed out.
  await other.page.goto("/account/security");
  await expect(other.page).toHaveURL(/\/login/);

  // Turn on two-factor: password, then the code from the key shown.
  await page.getByRole("button", { name: "Turn on two-factor" }).click();
  const setup = page.getByRole("dialog", { name: "Turn on two-factor" });
  await setup.getByLabel("Your password").fill(NEW_PASSWORD);
  await setup.getByRole("button", { name: "Continue" }).click();
  await expect(setup.getByRole("img", { name: "QR code for your authenticator app" })).toBeVisible();
  await expect(setup.getByRole("list", { name: "Backup codes" }).getByRole("listitem")).toHaveCount(10);
  const backup = (await setup.getByRole("list", { name: "Backup codes" }).getByRole("listitem").first().textContent())!.trim();
  const key = (await setup.getByTestId("totp-key").textContent())!;
  await setup.getByLabel("Code from the app").fill(totp(key, Date.now() - 10 * 60_000));
  await setup.getByRole("button", { name: "Turn on" }).click();
  await expect(setup.getByLabel("Code from the app")).toHaveAccessibleDescription(/That code is not right/);
  await setup.getByLabel("Code from the app").fill(totp(key));
  await setup.getByRole("button", { name: "Turn on" }).click();
  await expect(page.getByText("Two-factor is on. You will be asked for a code at your next sign-in.")).toBeVisible();
  await expect(page.getByRole("button", { name: "Turn off two-factor" })).toBeVisible();

  // Sign-in now asks for a code.
  await signOut(page); // the sign-out navigation ends before the next one starts
  await passwordStep(page, NEW_PASSWORD);
  const code = page.getByLabel("Authentication code");
  await expect(code).toBeFocused();
  await code.fill(totp(key, Date.now() - 10 * 60_000));
  await code.press("Enter");
  // (Next's route announcer is an empty role=alert too, so the message is picked by its text.)
  await expect(page.getByRole("alert").filter({ hasText: "That code is not right." })).toBeVisible();
  await expect(page).toHaveURL(/\/login/);
  await code.fill(totp(key));
  await code.press("Enter");
  await expect(page).toHaveURL(/\/no-access$/);

  // Another browser signs in with a backup code; this one sees it in Sessions and signs it out.
  await passwordStep(other.page, NEW_PASSWORD);
  await other.page.getByRole("button", { name: "Use a backup code" }).click();
  await other.page.getByLabel("Backup code").fill(backup);
  await other.page.getByRole("button", { name: "Verify" }).click();
  await expect(other.page).toHaveURL(/\/no-access$/);
  await page.goto("/account/sessions");
  const sessions = page.getByRole("table", { name: "Sessions" });
  await expect(sessions.getByRole("row")).toHaveCount(3); // header + 2
  await expect(sessions.getByText("This session")).toHaveCount(1);
  const otherRow = sessions.getByRole("row").filter({ hasNotText: "This session" }).last();
  await otherRow.getByRole("button", { name: /^Sign out / }).click();
  await confirm(page, /Sign out the .* session\?/, "Sign out session");
  await expect(page.getByText(/session signed out\./)).toBeVisible();
  await expect(sessions.getByRole("row")).toHaveCount(2);
  await other.page.goto("/account/security");
  await expect(other.page).toHaveURL(/\/login/);

  // An operator admin signs the user out everywhere.
  const op = await newBrowser(browser);
  await loginAs(op.page, "operatorAdmin", /\/ops$/);
  await op.page.getByRole("link", { name: "Users", exact: true }).click();
  await op.page.getByLabel("Filter users").fill(email);
  await op.page.getByRole("button", { name: `Sign out ${email} everywhere` }).click();
  await op.page
    .getByRole("dialog", { name: `Sign ${email} out everywhere?` })
    .getByRole("button", { name: "Sign out everywhere" })
    .click();
  await expect(op.page.getByText(`${email} signed out everywhere (1 session ended).`)).toBeVisible();
  await page.goto("/account/security");
  await expect(page).toHaveURL(/\/login/);

  // Back in (code again), two-factor off with the password.
  await passwordStep(page, NEW_PASSWORD);
  await page.getByLabel("Authentication code").fill(totp(key));
  await page.getByLabel("Authentication code").press("Enter");
  await expect(page).toHaveURL(/\/no-access$/);
  await page.goto("/account/security");
  const off = await submitDialog(page, "Turn off two-factor", { "Your password": "not my password" });
  await expect(off.getByLabel("Your password")).toHaveAccessibleDescription("That is not your password.");
  await off.getByLabel("Your password").fill(NEW_PASSWORD);
  await off.getByRole("button", { name: "Turn off two-factor" }).click();
  await expect(page.getByText("Two-factor is off. Your password alone signs you in.")).toBeVisible();
  await expect(page.getByRole("button", { name: "Turn on two-factor" })).toBeVisible();

  await other.ctx.close();
  await op.ctx.close();
});
