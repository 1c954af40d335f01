// `npm run test:real`: Playwright in Debian's Chromium against Anvil on the REAL lab (ANVIL_LAB=real: Ceph RBD, QEMU
// hosts that boot through their firmware, emulated DPUs; docs/real-lab.md). Guests boot on TCG here (about two and a
// half minutes each), hence the long timeouts. One worker: the spec is one story on two hosts.
import { defineConfig } from "@playwright/test";
import { chromium, projects } from "./e2e/browser";

const port = Number(process.env.E2E_REAL_PORT ?? 3299);

export default defineConfig({
  testDir: "e2e-real",
  fullyParallel: false,
  workers: 1,
  retries: 0,
  timeout: 20 * 60_000,
  expect: { timeout: 30_000 }, // every page waits on the BFF beside one or two TCG guests (load 10+)
  reporter: [["list"]],
  outputDir: "test-results/e2e-real",
  globalTeardown: "./e2e-real/teardown.ts",
  use: {
    baseURL: `http://localhost:${port}`,
    ...chromium,
  },
  projects,
  webServer: {
    command: "bash scripts/e2e-real-server.sh",
    // Ready only once the lab is up and its hosts enrolled (/readyz says "lab starting" until then).
    url: `http://127.0.0.1:${port}/readyz`,
    // A cold machine builds the guest image first (about 4 minutes), then Ceph, the hosts and the DPUs start.
    timeout: 20 * 60_000,
    reuseExistingServer: false,
    stdout: "pipe",
    stderr: "pipe",
    env: { PORT: String(port) },
  },
});
