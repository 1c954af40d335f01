// Instance work the instance routers and the operator's retry share: the NOT_FOUND every caller outside the tenant
// gets, the row lock a state change takes, the state-rule refusal, and what a create (or a retried create) records —
// its quota check and its rows — before the workflow starts.
import { and, eq, ne, sql } from "drizzle-orm";
import type { Db, Tx } from "@/db/client";
import { images, instances, type QuotaResource, volumeAttachments, volumes } from "@/db/schema";
import { invalid, notFound as notFoundError, precondition } from "@/domain/errors";
import { visibleTo } from "@/server/storage/images";
import { INITIAL_INSTANCE_STATE } from "@/domain/instance-lifecycle";
import { type InstanceAction, instanceCan } from "@/domain/instance-rules";
import type { Context } from "@/server/api/trpc";
import { catalog } from "@/server/workflows/catalog";
import { type StartedOperation, startOperation } from "@/server/workflows/start";
import { applyInstanceEvent } from "./instance-state";
import { QuotaExceeded } from "./quotas";

export const notFound = () => notFoundError("No such instance in this tenant.");

/** The image a tenant's instance boots from: one the tenant may use (else "No such image."), available, with its
 *  golden snapshot. Field errors on imageId. */
export async function bootImage(db: Db | Tx, tenantId: string, imageId: string) {
  const [img] = await db.select().from(images).where(eq(images.id, imageId));
  const image = (() => {
    try {
      return visibleTo(img, tenantId);
    } catch {
      throw invalid("No such image.", "imageId");
    }
  })();
  if (image.state !== "available" || !image.storageSnapshotId) throw precondition(`Image ${image.name} is ${image.state}; pick an available image.`, "imageId");
  return { ...image, storageSnapshotId: image.storageSnapshotId };
}

export const refuse = (action: InstanceAction, state: string) => {
  const v = instanceCan[action](state);
  if (!v.ok) throw precondition(v.reason);
};

/** Locks the tenant's instance row for a state change; NOT_FOUND for anything not the caller's tenant's. */
export async function lockInstance(tx: Tx, tenantId: string, id: string) {
  const [row] = await tx
    .select()
    .from(instances)
    .where(and(eq(instances.id, id), eq(instances.tenantId, tenantId), ne(instances.state, "deleted")))
    .for("update");
  if (!row) throw notFound();
  return row;
}

export type Ctx = Context & { principal: NonNullable<Context["principal"]>; tenant: { id: string; slug: string } };

/**
 * Quota for a create, checked AFTER its rows are inserted in the same transaction: the tenant's quota row is locked
 * (so concurrent creates of one tenant are serialised) for as short as possible — one upsert that locks, one query
 * that measures everything including this create's own rows, then commit. A new instance adds itself (cores, RAM);
 * a retried one only its system volume again. Refuses with the usual QuotaExceeded (usage before + what it adds).
 */
export async function enforceCreateQuota(tx: Tx, tenantId: string, add: { instances: number; cores: number; ramGiB: number; systemGiB: number }) {
  const locked = await tx.execute<{ instances: number; cores: number; ram_gib: number; volumes: number; volume_gib: number }>(sql`
    insert into quotas (tenant_id) values (${tenantId})
    on conflict (tenant_id) do update set tenant_id = excluded.tenant_id
    returning instances, cores, ram_gib, volumes, volume_gib`);
  const q = locked.rows[0]!;
  const used = await tx.execute<{ instances: number; cores: number; ram_gib: number; volumes: number; volume_gib: number }>(sql`
    select (select count(*)::int from instances where tenant_id = ${tenantId} and state <> 'deleted') as instances,
           (select coalesce(sum(cores), 0)::int from instances where tenant_id = ${tenantId} and state <> 'deleted') as cores,
           (select coalesce(sum(ram_gib), 0)::int from instances where tenant_id = ${tenantId} and state <> 'deleted') as ram_gib,
           (select count(*)::int from volumes where tenant_id = ${tenantId}) as volumes,
           (select coalesce(sum(size_gib), 0)::int from volumes where tenant_id = ${tenantId}) as volume_gib`);
  const u = used.rows[0]!;
  const checks: [QuotaResource, number, number, number][] = [
    ["instances", q.instances, u.instances, add.instances],
    ["cores", q.cores, u.cores, add.cores],
    ["ramGiB", q.ram_gib, u.ram_gib, add.ramGiB],
    ["volumes", q.volumes, u.volumes, 1],
    ["volumeGiB", q.volume_gib, u.volume_gib, add.systemGiB],
  ];
  for (const [resource, limit, usedAfter, adds] of checks) if (usedAfter > limit) throw new QuotaExceeded(resource, limit, usedAfter - adds, adds);
}

/**
 * What a create (or a retried create) records in the caller's transaction after the quota check: the system volume
 * record, the attachment rows that say what the instance holds, and the operation, to enqueue after commit.
 */
export async function prepareCreate(
  tx: Tx,
  inst: typeof instances.$inferSelect,
  logicalPoolId: string,
  dataVolumeIds: string[],
  createdBy: string | null,
): Promise<StartedOperation> {
  const [vol] = await tx
    .insert(volumes)
    .values({
      tenantId: inst.tenantId,
      name: `${inst.name}-system-${inst.id.slice(0, 8)}`,
      description: `System disk of instance ${inst.name}`,
      sizeGiB: inst.systemVolumeSizeGiB,
      kind: "system",
      logicalPoolId,
      sourceImageId: inst.imageId,
      state: "creating",
    })
    .returning({ id: volumes.id });
  await tx.insert(volumeAttachments).values({ volumeId: vol!.id, multiAttach: false, instanceId: inst.id });
  for (const v of dataVolumeIds) {
    const [dv] = await tx.select({ multiAttach: volumes.multiAttach }).from(volumes).where(eq(volumes.id, v));
    await tx.insert(volumeAttachments).values({ volumeId: v, multiAttach: dv!.multiAttach, instanceId: inst.id }).onConflictDoNothing();
    await tx.update(volumes).set({ state: "attached" }).where(eq(volumes.id, v));
  }
  const op = await startOperation(tx, catalog.instanceCreate, {
    target: { id: inst.id, name: inst.name, tenantId: inst.tenantId },
    createdBy,
    args: (opId) => [inst.id, opId],
  });
  // A new instance is already creating; a failed one retried starts over.
  if (inst.state === INITIAL_INSTANCE_STATE) await tx.update(instances).set({ operationId: op.id, stateReason: null }).where(eq(instances.id, inst.id));
  else await applyInstanceEvent(tx, inst.id, "retry_create", { operationId: op.id, strict: true });
  return op;
}
