// Tenant instances: list, get and flavours, create, start/stop/reboot and delete (each a workflow started with its
// operation in the request's transaction), and the operators' list across tenants.
import { and, eq, inArray, ne, sql } from "drizzle-orm";
import { z } from "zod";
import { images, instances, instanceState, nodes, operations, pools, ports, sshKeys, tenants, volumeAttachments, volumes } from "@/db/schema";
import { columnsOf } from "@/server/services/rows";
import { instanceCreateSchema } from "@/db/validation/instances";
import { allowedActions } from "@/domain/instance-rules";
import { flavors } from "@/server/services/instance-usage";
import { hostsWithTraits } from "@/server/services/traits";
import { catalog } from "@/server/workflows/catalog";
import { type StartedOperation, startOperation } from "@/server/workflows/start";
import { audit } from "@/server/services/audit";
import { fieldError } from "../errors";
import { listPage, pageInput } from "../pagination";
import { operatorProcedure, tenantProcedure } from "../trpc";
import { type Ctx, enforceCreateQuota, lockInstance, notFound, prepareCreate, refuse, bootImage } from "@/server/services/instances";
import { matchesText } from "@/server/lib/like";
import { createNicPort, resolveNic } from "@/server/services/instance-nics";
import { INITIAL_INSTANCE_STATE } from "@/domain/instance-lifecycle";
import { applyInstanceEvent } from "@/server/services/instance-state";
import { transact } from "../transact";
import { rulesStatusOf } from "@/server/services/rules-apply";

const instanceColumns = {
  ...columnsOf(instances, "id", "name", "description", "state", "stateReason", "poolId"),
  poolName: pools.name,
  imageId: instances.imageId,
  imageName: images.name,
  ...columnsOf(instances, "subnetId", "portId", "systemVolumeSizeGiB", "recoveryPolicy", "operationId", "createdAt", "updatedAt"),
};

const listInput = pageInput.extend({
  q: z.string().trim().max(100).optional(),
  state: z.enum(instanceState.enumValues).optional(),
  /** Deleted instances are history; they are listed only when asked for. */
  includeDeleted: z.boolean().default(false),
  sort: z.enum(["name", "createdAt"]).default("createdAt"),
});

/** The columns the lists sort by, and their tie-breaker. */
const listOrder = { sort: { name: instances.name, createdAt: instances.createdAt }, id: instances.id };

/** The filters both lists take: name search, and a state (deleted ones only when asked for). */
function listFilters(input: z.infer<typeof listInput>) {
  const state = input.state ? eq(instances.state, input.state) : input.includeDeleted ? undefined : ne(instances.state, "deleted");
  return [matchesText(input.q, instances.name), state];
}

// Correlated subqueries name the outer column literally: drizzle leaves columns unqualified when a query has one table.
const address = sql<string | null>`(select host(a.address) from ip_allocations a where a.port_id = "instances"."port_id" and family(a.address) = 4)`;
// The primary NIC's IPv6 address on a dual-stack subnet.
const ipv6Address = sql<string | null>`(select host(a.address) from ip_allocations a where a.port_id = "instances"."port_id" and family(a.address) = 6)`;
const mac = sql<string | null>`(select p.mac::text from ports p where p.id = "instances"."port_id")`;
const subnetName = sql<string | null>`(select s.name from subnets s where s.id = "instances"."subnet_id")`;

const uniques = { instances_tenant_name_uq: { field: "name", message: "An instance with this name already exists in this tenant." } };

async function startTransition(
  ctx: Ctx,
  input: { id: string },
  action: "delete" | "start" | "stop" | "reboot",
  opts: { force?: boolean } = {},
): Promise<{ operationId: string }> {
  const op = await ctx.db.transaction(async (tx) => {
    const row = await lockInstance(tx, ctx.tenant.id, input.id);
    refuse(action, row.state);
    const spec = { target: { id: row.id, name: row.name, tenantId: ctx.tenant.id }, createdBy: ctx.principal.email, input: opts.force ? { force: true } : {} };
    const op =
      action === "delete"
        ? await startOperation(tx, catalog.instanceDelete, { ...spec, args: (opId) => [row.id, opId] })
        : await startOperation(tx, catalog.instancePower, { ...spec, args: (opId) => [row.id, opId, action, !!opts.force] });
    await applyInstanceEvent(tx, row.id, action, { operationId: op.id, strict: true });
    await audit(tx, ctx, {
      action: `instance.${action}`,
      targetType: "instance",
      targetId: row.id,
      targetName: row.name,
      tenantId: ctx.tenant.id,
      details: opts.force ? { force: true } : {},
    });
    return op;
  });
  await op.enqueue();
  return { operationId: op.id };
}

/** The instances router's own procedures; root.ts mounts them with the volume/backup/rebuild (./instance-actions.ts)
 *  and operator-recovery (./instance-recovery.ts) procedures as one `instances` router. */
export const instanceProcedures = {
  list: tenantProcedure("tenant-member")
    .input(listInput)
    .query(async ({ ctx, input }) => {
      const query = ctx.db
        .select({ ...instanceColumns, address })
        .from(instances)
        .innerJoin(pools, eq(pools.id, instances.poolId))
        .leftJoin(images, eq(images.id, instances.imageId));
      return listPage(query, input, listOrder, eq(instances.tenantId, ctx.tenant.id), ...listFilters(input));
    }),

  get: tenantProcedure("tenant-member")
    .input(z.object({ id: z.uuid() }))
    .query(async ({ ctx, input }) => {
      const [row] = await ctx.db
        .select({
          ...instanceColumns,
          address,
          ipv6Address,
          mac,
          subnetName,
          ...columnsOf(instances, "userData", "sshKeyIds", "securityGroupIds", "nodeId"),
        })
        .from(instances)
        .innerJoin(pools, eq(pools.id, instances.poolId))
        .leftJoin(images, eq(images.id, instances.imageId))
        .where(and(eq(instances.id, input.id), eq(instances.tenantId, ctx.tenant.id)));
      if (!row) throw notFound();
      // The operation is read with the tenant filter too: an operation id alone must never leak another tenant's steps.
      const [operation] = row.operationId
        ? await ctx.db
            .select({
              ...columnsOf(operations, "id", "kind", "status", "steps", "currentStep", "progress", "error", "createdAt", "updatedAt"),
            })
            .from(operations)
            .where(and(eq(operations.id, row.operationId), eq(operations.tenantId, ctx.tenant.id)))
        : [];
      const vols = await ctx.db
        .select({ id: volumes.id, name: volumes.name, sizeGiB: volumes.sizeGiB, kind: volumes.kind, multiAttach: volumes.multiAttach, state: volumes.state })
        .from(volumeAttachments)
        .innerJoin(volumes, eq(volumes.id, volumeAttachments.volumeId))
        .where(eq(volumeAttachments.instanceId, row.id))
        .orderBy(volumes.kind, volumes.name);
      // Tenants see that it runs on a host, never which one (the node id stays operator knowledge).
      const { nodeId, ...rest } = row;
      return { ...rest, placed: nodeId !== null, operation: operation ?? null, volumes: vols, allowed: allowedActions(row.state) };
    }),

  /** Whether the instance's NICs enforce their current security rules (the page polls while some are behind). */
  rulesStatus: tenantProcedure("tenant-member")
    .input(z.object({ id: z.uuid() }))
    .query(async ({ ctx, input }) => {
      const [row] = await ctx.db
        .select({ portId: instances.portId })
        .from(instances)
        .where(and(eq(instances.id, input.id), eq(instances.tenantId, ctx.tenant.id)));
      if (!row) throw notFound();
      const all = await ctx.db.select({ id: ports.id }).from(ports).where(eq(ports.instanceId, input.id));
      return rulesStatusOf(ctx.db, [...new Set([...(row.portId ? [row.portId] : []), ...all.map((p) => p.id)])]);
    }),

  /** Pools as flavours: size of their hosts, how many are free, the largest system volume. */
  flavors: tenantProcedure("tenant-member").query(({ ctx }) => flavors(ctx.db)),

  create: tenantProcedure("tenant-member", { write: true })
    .input(instanceCreateSchema.safeExtend({ tenant: z.string() }))
    .mutation(async ({ ctx, input }) => {
      const [flavor] = await flavors(ctx.db, input.poolId);
      if (!flavor) throw fieldError("poolId", "No such pool.", "BAD_REQUEST");
      if (flavor.total === 0) throw fieldError("poolId", `Pool ${flavor.name} has no hosts that can run instances.`, "PRECONDITION_FAILED");
      if (flavor.available === 0)
        throw fieldError(
          "poolId",
          `No free host in pool ${flavor.name}: all ${flavor.total} are in use, in maintenance or faulty. Try again later or pick another pool.`,
          "PRECONDITION_FAILED",
        );
      if (input.requiredTraits.length) {
        // Refused now, naming the traits, rather than failing at the reserve step.
        const needed = [...new Set([...flavor.requiredTraits, ...input.requiredTraits])].sort();
        const hosts = await hostsWithTraits(ctx.db, flavor.poolId, needed);
        if (hosts.total === 0) throw fieldError("requiredTraits", `No host in pool ${flavor.name} has the traits ${needed.join(", ")}.`, "PRECONDITION_FAILED");
        if (hosts.available === 0)
          throw fieldError(
            "requiredTraits",
            `No free host in pool ${flavor.name} with the traits ${needed.join(", ")}: all ${hosts.total} are in use, in maintenance or faulty.`,
            "PRECONDITION_FAILED",
          );
      }
      const image = await bootImage(ctx.db, ctx.tenant.id, input.imageId);
      if (image.minSizeGiB > flavor.maxSystemVolumeGiB)
        throw fieldError(
          "imageId",
          `Image ${image.name} needs ${image.minSizeGiB} GiB, more than pool ${flavor.name} allows for a system volume (${flavor.maxSystemVolumeGiB} GiB).`,
          "BAD_REQUEST",
        );
      const size = input.systemVolumeSizeGiB ?? image.minSizeGiB;
      if (size < image.minSizeGiB)
        throw fieldError("systemVolumeSizeGiB", `Image ${image.name} needs a system volume of at least ${image.minSizeGiB} GiB.`, "BAD_REQUEST");
      if (size > flavor.maxSystemVolumeGiB)
        throw fieldError("systemVolumeSizeGiB", `Pool ${flavor.name} allows system volumes up to ${flavor.maxSystemVolumeGiB} GiB.`, "BAD_REQUEST");
      // The NICs in order: `nics` as given, or today's single NIC from subnetId / securityGroupIds. Each NIC's subnet
      // may be in any of the tenant's VPCs; its groups are of that VPC (none given → the VPC's default group).
      const asked = input.nics ?? [{ subnetId: input.subnetId!, securityGroupIds: input.securityGroupIds, address: undefined }];
      const nics: (Awaited<ReturnType<typeof resolveNic>> & { address: string | null })[] = [];
      for (const [i, nic] of asked.entries()) {
        const field = input.nics ? { subnet: `nics.${i}.subnetId`, groups: `nics.${i}.securityGroupIds` } : { subnet: "subnetId", groups: "securityGroupIds" };
        nics.push({ ...(await resolveNic(ctx.db, ctx.tenant.id, nic, field)), address: nic.address || null });
      }
      const subnet = nics[0]!.subnet;
      const groupIds = nics[0]!.groupIds;
      const keyIds = [...new Set(input.sshKeyIds)];
      if (keyIds.length) {
        const mine = await ctx.db
          .select({ id: sshKeys.id })
          .from(sshKeys)
          .where(and(inArray(sshKeys.id, keyIds), eq(sshKeys.userId, ctx.principal.userId)));
        if (mine.length !== keyIds.length) throw fieldError("sshKeyIds", "One of the SSH keys is not yours (or was deleted).", "BAD_REQUEST");
      }
      const dataIds = [...new Set(input.dataVolumeIds)];

      let result: { id: string; op: StartedOperation };
      result = await transact(
        ctx.db,
        async (tx) => {
          for (const v of dataIds) {
            const [dv] = await tx
              .select({
                ...columnsOf(volumes, "id", "name", "kind", "state", "multiAttach", "storageVolumeId"),
              })
              .from(volumes)
              .where(and(eq(volumes.id, v), eq(volumes.tenantId, ctx.tenant.id)))
              .for("update");
            if (!dv) throw fieldError("dataVolumeIds", "No such volume in this tenant.", "BAD_REQUEST");
            if (dv.kind !== "data") throw fieldError("dataVolumeIds", `Volume ${dv.name} is a system disk; attach data volumes only.`, "BAD_REQUEST");
            if (!dv.storageVolumeId || (dv.state !== "available" && !(dv.state === "attached" && dv.multiAttach)))
              throw fieldError(
                "dataVolumeIds",
                `Volume ${dv.name} is ${dv.state}${dv.state === "attached" ? " and not multi-attach" : ""}; pick an available volume.`,
                "PRECONDITION_FAILED",
              );
          }
          const [inst] = await tx
            .insert(instances)
            .values({
              tenantId: ctx.tenant.id,
              name: input.name,
              description: input.description ?? "",
              poolId: flavor.poolId,
              imageId: image.id,
              subnetId: subnet.id,
              securityGroupIds: groupIds,
              systemVolumeSizeGiB: size,
              userData: input.userData,
              sshKeyIds: keyIds,
              recoveryPolicy: input.recoveryPolicy,
              requiredTraits: input.requiredTraits,
              cores: flavor.cores,
              ramGiB: flavor.ramGiB,
              state: INITIAL_INSTANCE_STATE,
            })
            .returning();
          // Asked for NICs get their ports and addresses now (a taken fixed address is a field error); without `nics`
          // the create workflow makes the primary port as it always did.
          if (input.nics)
            for (const [index, nic] of nics.entries()) {
              const port = await createNicPort(tx, {
                tenantId: ctx.tenant.id,
                instanceId: inst!.id,
                instanceName: inst!.name,
                index,
                subnet: nic.subnet,
                groupIds: nic.groupIds,
                address: nic.address,
                addressField: `nics.${index}.address`,
              });
              if (index === 0) await tx.update(instances).set({ portId: port.portId }).where(eq(instances.id, inst!.id));
            }
          const op = await prepareCreate(tx, inst!, image.logicalPoolId, dataIds, ctx.principal.email);
          await audit(tx, ctx, {
            action: "instance.create",
            targetType: "instance",
            targetId: inst!.id,
            targetName: inst!.name,
            tenantId: ctx.tenant.id,
            details: { pool: flavor.name, image: image.name, systemVolumeSizeGiB: size, subnet: subnet.name, nics: nics.length, dataVolumes: dataIds.length },
          });
          // Last, so the tenant's quota row is locked only for the check and the commit.
          await enforceCreateQuota(tx, ctx.tenant.id, { instances: 1, cores: flavor.cores, ramGiB: flavor.ramGiB, systemGiB: size });
          return { id: inst!.id, op };
        },
        uniques,
      );
      await result.op.enqueue();
      return { id: result.id, operationId: result.op.id };
    }),

  delete: tenantProcedure("tenant-member", { write: true })
    .input(z.object({ id: z.uuid() }))
    .mutation(({ ctx, input }) => startTransition(ctx as Ctx, input, "delete")),
  start: tenantProcedure("tenant-member", { write: true })
    .input(z.object({ id: z.uuid() }))
    .mutation(({ ctx, input }) => startTransition(ctx as Ctx, input, "start")),
  stop: tenantProcedure("tenant-member", { write: true })
    .input(z.object({ id: z.uuid(), force: z.boolean().default(false) }))
    .mutation(({ ctx, input }) => startTransition(ctx as Ctx, input, "stop", { force: input.force })),
  reboot: tenantProcedure("tenant-member", { write: true })
    .input(z.object({ id: z.uuid(), force: z.boolean().default(false) }))
    .mutation(({ ctx, input }) => startTransition(ctx as Ctx, input, "reboot", { force: input.force })),

  /** Operators: every tenant's instances with the node each runs on. */
  adminList: operatorProcedure("operator-viewer")
    .input(listInput.extend({ tenantId: z.uuid().optional(), poolId: z.uuid().optional() }))
    .query(async ({ ctx, input }) => {
      const query = ctx.db
        .select({
          ...instanceColumns,
          address,
          tenantId: instances.tenantId,
          tenantSlug: tenants.slug,
          nodeId: instances.nodeId,
          nodeName: nodes.name,
          operationKind: operations.kind,
          operationStatus: operations.status,
          operationError: operations.error,
          operationStep: operations.currentStep,
        })
        .from(instances)
        .innerJoin(tenants, eq(tenants.id, instances.tenantId))
        .innerJoin(pools, eq(pools.id, instances.poolId))
        .leftJoin(images, eq(images.id, instances.imageId))
        .leftJoin(nodes, eq(nodes.id, instances.nodeId))
        .leftJoin(operations, eq(operations.id, instances.operationId));
      const tenant = input.tenantId ? eq(instances.tenantId, input.tenantId) : undefined;
      const pool = input.poolId ? eq(instances.poolId, input.poolId) : undefined;
      return listPage(query, input, listOrder, tenant, pool, ...listFilters(input));
    }),
};
