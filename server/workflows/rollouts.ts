// Rolling DPU OS update (issue #17 point 5): workflow rollout.run takes the hosts of a rollout (db/schema/rollouts.ts)
// in order, at most maxUnavailable at once, and updates every DPU of each through the per-DPU firmware update
// (dpu.firmware_update, one operation per DPU). It is a reconciler over Postgres: each tick is one durable step that
// reads the rows, records what finished, starts what may start and says which firmware operations to enqueue (the
// workflow enqueues them itself, never inside a step, with the operation id as the workflow id, so a replay after a
// crash starts nothing twice). A host whose DPU update fails, or whose DPU cannot take one, fails and pauses the
// rollout: hosts already updating finish, nothing new starts; the operator resumes (failed hosts are tried again) or
// aborts (hosts not started are skipped). A host running instances is skipped (instancePolicy "skip"): its instances
// would lose their network and storage while the DPU reboots. No compensation: a DPU that took the new OS keeps it
// (there is nothing to undo that an operator would want undone; a failed update leaves the DPU's old OS, as the
// BMC's task reports).
import { and, asc, eq, inArray, ne, sql } from "drizzle-orm";
import { getDb, type Tx } from "@/db/client";
import { instances, nodes, operations, rolloutHosts, rollouts } from "@/db/schema";
import { nodeCan } from "@/domain/node-lifecycle";
import { catalog, type OperationId } from "./catalog";
import { defineWorkflow, sleep, step } from "./engine";
import { enqueue, startOperation } from "./start";

/** How often a running rollout looks at its hosts. */
const TICK_MS = 1000;

type Rollout = typeof rollouts.$inferSelect;
/** A firmware operation a tick recorded, for the workflow to enqueue. */
type Start = { dpuId: string; opId: OperationId; imageUri: string };

/** One reconciliation of a rollout; `finished` when its run ends (succeeded, or paused/aborted with nothing in flight). */
export async function tickRollout(rolloutId: string): Promise<{ finished: boolean; starts: Start[] }> {
  const db = getDb();
  // 1. Hosts whose DPU operations all ended: done, or failed with the first failure (which pauses the rollout).
  const updating = await db
    .select()
    .from(rolloutHosts)
    .where(and(eq(rolloutHosts.rolloutId, rolloutId), eq(rolloutHosts.state, "updating")));
  const starts: Start[] = [];
  for (const h of updating) {
    const ops = h.operationIds.length
      ? await db
          .select({ id: operations.id, status: operations.status, error: operations.error, targetId: operations.targetId, targetName: operations.targetName })
          .from(operations)
          .where(inArray(operations.id, h.operationIds))
      : [];
    const failed = ops.find((o) => o.status === "failed" || o.status === "cancelled");
    const running = ops.filter((o) => o.status === "pending" || o.status === "running");
    if (!failed && running.length) {
      // Recorded but maybe never enqueued (a crash between the two): enqueuing the same id again is the same run.
      const [r] = await db.select({ imageUri: rollouts.imageUri }).from(rollouts).where(eq(rollouts.id, rolloutId));
      for (const o of running) if (o.status === "pending" && o.targetId) starts.push({ dpuId: o.targetId, opId: o.id as OperationId, imageUri: r!.imageUri });
      continue;
    }
    if (running.length) continue; // one failed; wait for its siblings before saying so
    await db.transaction(async (tx) => {
      const message = failed
        ? `${failed.targetName}: ${failed.error ?? `the update ${failed.status}.`}`
        : `Updated ${ops.length} DPU${ops.length === 1 ? "" : "s"}.`;
      await tx
        .update(rolloutHosts)
        .set({ state: failed ? "failed" : "done", message, endedAt: new Date() })
        .where(and(eq(rolloutHosts.rolloutId, rolloutId), eq(rolloutHosts.hostId, h.hostId), eq(rolloutHosts.state, "updating")));
      if (failed) await pause(tx, rolloutId, `${h.hostName} failed: ${message}`);
    });
  }

  // 2. Start hosts while there is room, then 3. end the run when nothing is left to do — under the rollout's row lock,
  // which the pause/resume/abort procedures take too.
  let finished = false;
  const started = await db.transaction(async (tx) => {
    const [r] = await tx.select().from(rollouts).where(eq(rollouts.id, rolloutId)).for("update");
    if (!r) {
      finished = true; // the rollout is gone: nothing left to work on
      return [];
    }
    const hosts = await tx.select().from(rolloutHosts).where(eq(rolloutHosts.rolloutId, rolloutId)).orderBy(asc(rolloutHosts.position));
    let inFlight = hosts.filter((h) => h.state === "updating").length;
    const out: Start[] = [];
    if (r.status === "running") {
      for (const h of hosts) {
        if (inFlight >= r.maxUnavailable) break;
        if (h.state !== "pending") continue;
        const outcome = await startHost(tx, r, h.hostId);
        await tx
          .update(rolloutHosts)
          .set({
            state: outcome.state,
            message: outcome.message,
            operationIds: outcome.starts.map((s) => s.opId),
            startedAt: new Date(),
            endedAt: outcome.state === "updating" ? null : new Date(),
          })
          .where(and(eq(rolloutHosts.rolloutId, rolloutId), eq(rolloutHosts.hostId, h.hostId)));
        if (outcome.state === "failed") {
          await pause(tx, rolloutId, `${h.hostName} failed: ${outcome.message}`);
          break;
        }
        if (outcome.state === "updating") inFlight++;
        out.push(...outcome.starts);
      }
    }
    const [now] = await tx.select().from(rollouts).where(eq(rollouts.id, rolloutId));
    const left = await tx
      .select({ state: rolloutHosts.state, n: sql<number>`count(*)::int` })
      .from(rolloutHosts)
      .where(and(eq(rolloutHosts.rolloutId, rolloutId), inArray(rolloutHosts.state, ["pending", "updating"])))
      .groupBy(rolloutHosts.state);
    const count = (s: string) => left.find((x) => x.state === s)?.n ?? 0;
    if (count("updating") === 0 && (now!.status !== "running" || count("pending") === 0)) {
      const done = now!.status === "running";
      await tx
        .update(rollouts)
        .set({ runActive: false, updatedAt: new Date(), ...(done ? { status: "succeeded" as const, endedAt: new Date() } : {}) })
        .where(eq(rollouts.id, rolloutId));
      finished = true;
    }
    return out;
  });
  return { finished, starts: [...starts, ...started] };
}

/** Pauses a running rollout with the reason (the first failure wins; an abort is not undone by a later failure). */
async function pause(tx: Tx, rolloutId: string, reason: string) {
  await tx
    .update(rollouts)
    .set({ status: "paused", reason, updatedAt: new Date() })
    .where(and(eq(rollouts.id, rolloutId), eq(rollouts.status, "running")));
}

/** What taking one host means now: skipped (instances, no DPU, gone), failed (a DPU cannot take an update) or updating. */
async function startHost(tx: Tx, r: Rollout, hostId: string): Promise<{ state: "updating" | "failed" | "skipped"; message: string; starts: Start[] }> {
  const placed = await tx
    .select({ name: instances.name })
    .from(instances)
    .where(and(eq(instances.nodeId, hostId), ne(instances.state, "deleted")));
  if (placed.length)
    return { state: "skipped", message: `Runs ${placed.map((p) => p.name).join(", ")}: skipped, so its instances keep their DPU.`, starts: [] };
  const dpus = await tx.select().from(nodes).where(eq(nodes.parentNodeId, hostId)).orderBy(asc(nodes.name));
  if (!dpus.length) return { state: "skipped", message: "It has no DPU.", starts: [] };
  for (const d of dpus) {
    const v = nodeCan.firmwareUpdate({
      kind: "dpu",
      provisionState: d.provisionState,
      powerState: d.powerState,
      maintenance: d.maintenance,
      fault: d.fault,
      bmcCredentialsMissing: d.bmcCredentialsFingerprint === null,
    });
    if (!v.ok) return { state: "failed", message: `${d.name}: ${v.reason}`, starts: [] };
  }
  const starts: Start[] = [];
  for (const d of dpus) {
    const op = await startOperation(tx, catalog.dpuFirmwareUpdate, {
      target: { id: d.id, name: d.name },
      createdBy: r.createdBy,
      args: (opId) => [d.id, r.imageUri, [], opId],
      input: { imageUri: r.imageUri, rolloutId: r.id },
    });
    starts.push({ dpuId: d.id, opId: op.id, imageUri: r.imageUri });
  }
  return { state: "updating", message: `Updating ${dpus.map((d) => d.name).join(", ")}.`, starts };
}

export const rolloutRun = defineWorkflow(catalog.rolloutRun, async (rolloutId) => {
  for (;;) {
    const t = await step("tick", () => tickRollout(rolloutId));
    // Started here, not inside the step: a workflow's child starts are themselves recorded, so a replay repeats none.
    for (const s of t.starts) await enqueue(catalog.dpuFirmwareUpdate, [s.dpuId, s.imageUri, [], s.opId], { workflowID: s.opId });
    if (t.finished) return;
    await sleep(TICK_MS);
  }
});
