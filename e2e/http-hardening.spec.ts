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

test("the browser finds the favicon, the app icons and the web app manifest without signing in", async ({ page, request }) => {
  await page.goto("/login");
  const head = page.locator("head");
  await expect(head.locator('link[rel="manifest"]')).toHaveAttribute("href", "/manifest.webmanifest");
  await expect(head.locator('link[rel="icon"][href="/favicon.ico"]')).toHaveCount(1);
  await expect(head.locator('link[rel="apple-touch-icon"]')).toHaveAttribute("href", "/apple-touch-icon.png");

  const manifest = await request.get("/manifest.webmanifest");
  expect(manifest.status()).toBe(200);
  const m = await manifest.json();
  expect(m.name).toBe("Anvil");
  for (const icon of m.icons as { src: string; type: string }[]) {
    const res = await request.get(icon.src);
    expect(res.status(), icon.src).toBe(200);
    expect(res.headers()["content-type"], icon.src).toContain(icon.type);
  }
  const ico = await request.get("/favicon.ico");
  expect(ico.status()).toBe(200);
  expect((await ico.body()).subarray(0, 4)).toEqual(Buffer.from([0, 0, 1, 0])); // the ICO magic
});
