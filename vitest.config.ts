// Unit and integration tests (vitest). Three projects:
//  - "lab": sim/ and agent/ — standalone programs, no database.
//  - "domain": the client-safe rules in domain/ and the layer rules of the tree (test/layers.test.ts) — no database.
//  - "server": server/, db/ and test/ — run against a real Postgres started once by test/global-setup.ts.
// E2E lives in e2e/ and runs under Playwright.
import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

const root = fileURLToPath(new URL(".", import.meta.url));

// `npm test` runs two lanes side by side (scripts/test.sh): ANVIL_TEST_LANE=real runs only each project's `heavy`
// files (they boot QEMU guests: minutes of CPU each) and its `shared` ones, =main every other file (the shared ones
// included); unset runs all. A new test of that weight goes in its project's `heavy` list. A shared file runs in both
// lanes and takes its half of the work by ANVIL_TEST_LANE (the crash suite: CRASH_PART in it).
const lane = process.env.ANVIL_TEST_LANE;
if (lane && lane !== "main" && lane !== "real") throw new Error(`ANVIL_TEST_LANE must be "main" or "real", got "${lane}"`);
/** A project's include/exclude in this lane. */
const inLane = (include: string[], heavy: string[], exclude: string[] = [], shared: string[] = []) =>
  lane === "real" ? { include: [...heavy, ...shared], exclude } : lane === "main" ? { include, exclude: [...exclude, ...heavy] } : { include, exclude };
const alias = [
  { find: /^@\/(.*)$/, replacement: `${root}$1` },
  // Next's "server-only" guard throws outside a React Server environment; tests run server code directly.
  { find: "server-only", replacement: `${root}test/server-only-stub.ts` },
];

export default defineConfig({
  resolve: { alias },
  test: {
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: "forks",
    teardownTimeout: 30_000,
    projects: [
      {
        resolve: { alias },
        test: { name: "lab", ...inLane(["sim/**/*.test.ts", "agent/**/*.test.ts"], ["sim/real/**/*.test.ts"]), testTimeout: 30_000, hookTimeout: 60_000 },
      },
      {
        resolve: { alias },
        test: { name: "domain", ...inLane(["domain/**/*.test.ts", "test/layers.test.ts"], []) },
      },
      {
        resolve: { alias },
        test: {
          name: "server",
          ...inLane(
            ["server/**/*.test.ts", "db/**/*.test.ts", "test/**/*.test.ts", "cli/**/*.test.ts"],
            ["test/real-ipmi.test.ts"],
            ["test/layers.test.ts"],
            ["server/workflows/instance-crash.test.ts"],
          ),
          globalSetup: ["test/global-setup.ts"],
          // The lab, simulators and agents the tests talk to are on loopback, which the management-network policy
          // refuses by default (server/lib/mgmt-network.ts); the policy's own tests set these per case.
          // One workflow-engine application version for every test process and the worker processes they spawn: DBOS
          // hands queued work only to executors of the latest registered version, and test files that register their
          // own workflows (metrics.test.ts) would otherwise make the crash test's workers "old" and starve them.
          env: { ANVIL_MGMT_ALLOW: "127.0.0.0/8", ANVIL_IMAGE_IMPORT_ALLOW: "127.0.0.0/8", DBOS__APPVERSION: "anvil-tests" },
          testTimeout: 30_000,
          hookTimeout: 60_000,
        },
      },
    ],
  },
});
