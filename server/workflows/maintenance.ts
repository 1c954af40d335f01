// Periodic housekeeping on the workflow engine (each tick runs once across replicas): finish storage work a BFF
// died in the middle of (server/storage/reconcile.ts), so neither Anvil nor the storage service keeps leaked objects.
import { getDb } from "@/db/client";
import { logger } from "@/server/lib/log";
import { storageConfig } from "@/server/storage/backend";
import { reconcileStorage } from "@/server/storage/reconcile";
import { schedules } from "./catalog";
import { defineSchedule, step } from "./engine";

export async function reconcileNow(): Promise<void> {
  if (!storageConfig()) return;
  const report = await reconcileStorage(getDb(), { olderThanMs: 120_000 });
  if (Object.values(report).some((n) => n > 0)) logger.info(report, "storage reconcile");
}

export const storageReconcileSchedule = defineSchedule(schedules.storageReconcile, "0 */5 * * * *", async () => {
  await step("reconcile", reconcileNow);
});
