// E2E: the security headers on the real production server (Next pages, an API route, the console page), and the
// pages still work in Chromium under that Content-Security-Policy: no violation while signing in and browsing.
import { expect, test } from "@playwright/test";
import { loginAs } from "./helpers";

test("pages, API routes and the console page carry the security headers", async ({ request }) => {
  for (const path of ["/login", "/api/auth/get-session", "/ops/nodes/0b0c1d2e-3f40-4152-8364-758697a8b9ca/console"]) {
    const res = await request.get(path, { maxRedirects: 0 });
    const h = res.headers();
    expect(h["content-security-policy"], path).toContain("frame-ancestors 'none'");
    expect(h["content-security-policy"], path).toMatch(/connect-src 'self' ws:\/\/\S+ wss:\/\/\S+/);
    expect(h["x-frame-options"], path).toBe("DENY");
    expect(h["x-content-type-options"], path).toBe("nosniff");
    expect(h["referrer-policy"], path).toBe("strict-origin-when-cross-origin");
    expect(h["strict-transport-security"], path).toBeUndefined(); // plain HTTP
  }
});

test("the app runs under the policy: no CSP violation while signing in and browsing", async ({ page }) => {
  const violations: string[] = [];
  page.on("console", (m) => {
    if (/Content Security Policy|Refused to/i.test(m.text())) violations.push(m.text());
  });
  await loginAs(page, "operatorAdmin", /\/ops$/);
  await page.getByRole("link", { name: "Pools", exact: true }).click();
  await expect(page.getByRole("table", { name: "Pools" })).toBeVisible();
  expect(violations).toEqual([]);
});
