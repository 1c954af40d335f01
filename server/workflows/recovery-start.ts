// Starting a recovery (no workflow code here, so routers may import it): the state flip, the operation and the
// enqueue of instance.recover (server/workflows/instance-recovery.ts), and the query that finds what needs one.
import { eq, sql } from "drizzle-orm";
import { getDb } from "@/db/client";
import { instances } from "@/db/schema";
import { getEngine } from "./engine";
import { createOperation } from "./operations";

export const RECOVER_STEPS = [
  "fence old host",
  "detach from old DPU",
  "reserve spare host",
  "allocate address",
  "render cloud-init",
  "clone system volume",
  "export target",
  "attach boot disk",
  "attach cloud-init seed",
  "create NIC with rules",
  "attach data volumes",
  "boot override to disk",
  "power on",
  "wait for OS",
  "mark running",
];

/**
 * Flips a recoverable instance to recovering and starts its recovery, in one transaction with the operation (so two
 * replicas or two ticks can never start it twice: the second finds it no longer running). Returns the operation id,
 * or null when the instance was not in a state to recover.
 */
export async function startRecovery(instanceId: string, reason: string, createdBy: string | null, from: string[] = ["running"]): Promise<string | null> {
  const db = getDb();
  const opId = await db.transaction(async (tx) => {
    const [inst] = await tx.select().from(instances).where(eq(instances.id, instanceId)).for("update");
    if (!inst || !from.includes(inst.state)) return null;
    const id = await createOperation(tx, {
      kind: "instance.recover",
      targetType: "instance",
      targetId: inst.id,
      targetName: inst.name,
      tenantId: inst.tenantId,
      createdBy,
      steps: RECOVER_STEPS,
      input: { reason },
    });
    await tx.update(instances).set({ state: "recovering", stateReason: reason, operationId: id }).where(eq(instances.id, inst.id));
    return id;
  });
  if (opId) await getEngine().enqueue("instance.recover", [instanceId, opId, reason], { workflowID: opId, queue: "instances" });
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

