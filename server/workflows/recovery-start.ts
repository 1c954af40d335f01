// Starting a recovery (no workflow code here, so routers may import it): the state flip, the operation and the
// enqueue of instance.recover (server/workflows/instance-recovery.ts), and the query that finds what needs one.
import { eq, sql } from "drizzle-orm";
import { getDb } from "@/db/client";
import { instances } from "@/db/schema";
import { catalog, type OperationId } from "./catalog";
import { enqueue, startOperation } from "./start";
import { applyInstanceEvent } from "@/server/services/instance-state";

/**
 * Flips a recoverable instance to recovering and records the operation, in one transaction (so two replicas or two
 * ticks can never start it twice: the second finds it no longer in `from`). Returns the operation id, or null when
 * the instance was not in a state to recover. The caller enqueues instance.recover with that id.
 */
export async function prepareRecovery(instanceId: string, reason: string, createdBy: string | null, from: string[] = ["running"]): Promise<OperationId | null> {
  return getDb().transaction(async (tx) => {
    const [inst] = await tx.select().from(instances).where(eq(instances.id, instanceId)).for("update");
    if (!inst || !from.includes(inst.state)) return null;
    // Enqueued by the caller (enqueueRecovery), which may be a workflow that prepared this in a step.
    const { id } = await startOperation(tx, catalog.instanceRecover, {
      target: { id: inst.id, name: inst.name, tenantId: inst.tenantId },
      createdBy,
      args: (opId) => [inst.id, opId, reason],
      input: { reason },
    });
    await applyInstanceEvent(tx, inst.id, "recover", { reason, operationId: id, strict: true });
    return id;
  });
}

/** Starts instance.recover for a prepared operation (the operation id is the workflow id: starting twice is one run). */
export async function enqueueRecovery(instanceId: string, opId: OperationId, reason: string): Promise<void> {
  await enqueue(catalog.instanceRecover, [instanceId, opId, reason], { workflowID: opId });
}

/** prepareRecovery + enqueueRecovery, for callers outside a workflow (the operator's recover, a retry). */
export async function startRecovery(instanceId: string, reason: string, createdBy: string | null, from: string[] = ["running"]): Promise<string | null> {
  const opId = await prepareRecovery(instanceId, reason, createdBy, from);
  if (opId) await enqueueRecovery(instanceId, opId, reason);
  return opId;
}

/** Running instances with recovery policy "reprovision" whose host (or its DPU) has a fault. */
export async function recoveryCandidates(): Promise<{ id: string; fault: string }[]> {
  const r = await getDb().execute<{ id: string; fault: string }>(sql`
    select i.id, coalesce(h.fault, d.fault) as fault
    from instances i
    join nodes h on h.id = i.node_id
    left join nodes d on d.parent_node_id = h.id and d.kind = 'dpu' and d.fault is not null
    where i.state = 'running' and i.recovery_policy = 'reprovision' and (h.fault is not null or d.id is not null)`);
  return r.rows;
}
