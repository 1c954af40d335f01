// Replica heartbeats and takeover. Every process running the workflow engine records itself in `replicas` and
// refreshes its row every ANVIL_REPLICA_HEARTBEAT_MS (5 s). On each beat it also looks for replicas silent for longer
// than ANVIL_REPLICA_DEAD_MS (20 s): it claims each one with a DELETE … RETURNING (so exactly one live replica wins)
// and asks DBOS to recover that executor's pending workflows, which puts them back on their queues for any replica
// to run. A replica restarted under its own id needs none of this (DBOS recovers its own work at launch); this is
// for the one that never comes back. A replica that was only slow and finds its row gone re-inserts it on its next
// beat; DBOS steps are checkpointed and our steps idempotent, so a workflow run twice in that window stays correct.
import os from "node:os";
import { DBOSExecutor } from "@dbos-inc/dbos-sdk/internal/dbos-executor";
import { sql } from "drizzle-orm";
import { type Db, getDb } from "@/db/client";
import { replicas } from "@/db/schema";
import { logger } from "@/server/lib/log";

const heartbeatMs = () => Number(process.env.ANVIL_REPLICA_HEARTBEAT_MS ?? 5000);
const deadMs = () => Number(process.env.ANVIL_REPLICA_DEAD_MS ?? 20_000);

const g = globalThis as unknown as { __anvilHeartbeat?: { timer: NodeJS.Timeout; executorId: string } };

/** One beat: refresh our row, then take over every replica silent for too long. Returns the ids taken over. */
export async function beat(executorId: string, db: Db = getDb()): Promise<string[]> {
  await db
    .insert(replicas)
    .values({ executorId, hostname: os.hostname(), pid: process.pid })
    .onConflictDoUpdate({ target: replicas.executorId, set: { lastSeenAt: sql`now()`, pid: process.pid, hostname: os.hostname() } });
  const dead = await db.execute<{ executor_id: string }>(sql`
    delete from replicas
    where executor_id <> ${executorId} and last_seen_at < now() - make_interval(secs => ${deadMs() / 1000})
    returning executor_id`);
  const ids = dead.rows.map((r) => r.executor_id);
  if (ids.length) {
    const exec = DBOSExecutor.globalInstance;
    if (!exec) throw new Error("the workflow engine is not running in this process");
    const handles = await exec.recoverPendingWorkflows(ids);
    logger.warn({ deadReplicas: ids, workflows: handles.map((h) => h.workflowID) }, "took over the pending workflows of replicas that stopped answering");
  }
  return ids;
}

export function startHeartbeat(executorId: string): void {
  if (g.__anvilHeartbeat) return;
  const tick = () => void beat(executorId).catch((e) => logger.error({ err: (e as Error).message }, "replica heartbeat failed"));
  tick();
  const timer = setInterval(tick, heartbeatMs());
  timer.unref();
  g.__anvilHeartbeat = { timer, executorId };
}

/** Stops beating and removes our row (a clean stop is not a death: nothing to take over). */
export async function stopHeartbeat(db: Db = getDb()): Promise<void> {
  const hb = g.__anvilHeartbeat;
  if (!hb) return;
  clearInterval(hb.timer);
  g.__anvilHeartbeat = undefined;
  await db
    .delete(replicas)
    .where(sql`${replicas.executorId} = ${hb.executorId}`)
    .catch(() => undefined);
}

export async function listReplicas(db: Db = getDb()) {
  return db.select().from(replicas).orderBy(replicas.executorId);
}
