// A second Anvil process for the kill-at-each-step tests: connects to DATABASE_URL, starts the real workflow engine
// (every registered workflow, the instance ones included) under ANVIL_REPLICA_ID, prints "ready", and runs whatever
// the shared queues hand it until SIGTERM. With ANVIL_CRASH_AT set (engine.ts) it SIGKILLs itself at that step, as a
// crashing BFF would. The storage service and secrets come from the environment the test passes down.
// Run: node --conditions=react-server --import tsx test/instance-worker.ts
import { closeDb } from "@/db/client";
import { startEngine, stopEngine } from "@/server/workflows/engine";
import { workflows } from "@/server/workflows/registry";

const url = process.env.DATABASE_URL;
if (!url) {
  console.error("instance-worker: DATABASE_URL is required");
  process.exit(2);
}
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
