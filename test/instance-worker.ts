// A second Anvil process for the kill-at-each-step tests: connects to DATABASE_URL, starts the real workflow engine
// (every registered workflow, the instance ones included) under ANVIL_REPLICA_ID, prints "ready", and runs whatever
// the shared queues hand it until SIGTERM. With ANVIL_CRASH_AT set (engine.ts) it SIGKILLs itself at that step, as a
// crashing BFF would. The storage service and secrets come from the environment the test passes down.
// With ANVIL_WORKER_WARM=1 it first loads its dependencies, prints "warm" and waits for one line on stdin: a JSON
// object of the variables to add to its environment (ANVIL_REPLICA_ID, ANVIL_CRASH_AT…), read before the engine's
// modules load. The crash test keeps one warm, so a restart after a kill costs the engine's start and little else.
// Run: node --conditions=react-server --import tsx test/instance-worker.ts (the tests run a bundle of it: test/worker-bundle.ts)
import { createInterface } from "node:readline";

const url = process.env.DATABASE_URL;
if (!url) {
  console.error("instance-worker: DATABASE_URL is required");
  process.exit(2);
}
if (process.env.ANVIL_WORKER_WARM === "1") {
  // The heavy dependencies only: none of these imports the engine, which reads ANVIL_CRASH_AT when it loads.
  await Promise.all([
    import("@dbos-inc/dbos-sdk"),
    import("@/db/schema"),
    import("@/server/drivers/bmc"),
    import("@/server/drivers/dpu-agent/client"),
    import("@/server/storage/images"),
    import("@/server/services/instance-state"),
  ]);
  process.stdout.write("warm\n");
  const lines = createInterface({ input: process.stdin });
  const [line] = await lines[Symbol.asyncIterator]()
    .next()
    .then((r) => [r.value as string | undefined]);
  lines.close();
  if (!line) process.exit(0); // the test ended without needing this one
  Object.assign(process.env, JSON.parse(line) as Record<string, string>);
}
const { closeDb } = await import("@/db/client");
const { startEngine, stopEngine } = await import("@/server/workflows/engine");
const { workflows } = await import("@/server/workflows/registry");
await startEngine(workflows, { databaseUrl: url, executorId: process.env.ANVIL_REPLICA_ID, schedules: false });
process.stdout.write("ready\n");
const stop = async () => {
  await stopEngine();
  await closeDb();
  process.exit(0);
};
process.on("SIGTERM", () => void stop());
process.on("SIGINT", () => void stop());
setInterval(() => {}, 60_000);
