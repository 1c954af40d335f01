// How both Playwright configs (playwright.config.ts, playwright.real.config.ts) launch the browser: Debian's Chromium
// (no browser download here), with the flags that keep it off the network it cannot reach.
import { devices, type PlaywrightTestConfig } from "@playwright/test";

export const chromium = {
  // Kept for a failed test: the DOM snapshots, network and console of each step, without the screencast (measured: the
  // screencast's JPEG frames made Chromium the run's largest CPU user, beside the QEMU guests); the failure's own
  // screenshot is still taken.
  trace: { mode: "retain-on-failure", screenshots: false, snapshots: true, sources: true },
  screenshot: "only-on-failure",
  launchOptions: {
    executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
      "--disable-quic",
    ],
  },
} satisfies PlaywrightTestConfig["use"];

export const projects: PlaywrightTestConfig["projects"] = [{ name: "chromium", use: { ...devices["Desktop Chrome"], channel: undefined } }];
