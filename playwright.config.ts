// Playwright E2E: real Chromium (Debian's), the real production build of Anvil, a fresh embedded Postgres.
import { defineConfig } from "@playwright/test";
import { chromium, projects } from "./e2e/browser";

const port = Number(process.env.E2E_PORT ?? 3199);
export const baseURL = `http://localhost:${port}`;

export default defineConfig({
  testDir: "e2e",
  fullyParallel: false,
  workers: 1,
  retries: 0,
  // A spec is a whole story (several sign-ins, forms, workflows); on a loaded 2-core machine one can take over a minute.
  timeout: 120_000,
  expect: { timeout: 15_000 },
  reporter: [["list"]],
  outputDir: "test-results/e2e",
  use: {
    baseURL,
    ...chromium,
  },
  projects,
  webServer: {
    command: "bash scripts/e2e-server.sh",
    url: `http://127.0.0.1:${port}/login`,
    timeout: 180_000,
    reuseExistingServer: false,
    stdout: "pipe",
    stderr: "pipe",
    env: { PORT: String(port) },
  },
});
