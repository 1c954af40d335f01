// Instances (tenant self-provisioning): the tenant's list and detail (with the latest create/delete operation and
// its steps), and the operators' list across all tenants. Create and delete enqueue the instance workflows and
// are not built yet (see the provisioning issue); until then these reads show what the workflows write.
import { TRPCError } from "@trpc/server";
import { and, eq, ilike, ne } from "drizzle-orm";
import { z } from "zod";
import { images, instances, instanceState, nodes, operations, pools, tenants } from "@/db/schema";
import { keyset, page, pageInput } from "../pagination";
import { createTRPCRouter, operatorProcedure, tenantProcedure } from "../trpc";

const instanceColumns = {
  id: instances.id,
  name: instances.name,
  description: instances.description,
  state: instances.state,
  stateReason: instances.stateReason,
  poolId: instances.poolId,
  poolName: pools.name,
  imageId: instances.imageId,
  imageName: images.name,
  subnetId: instances.subnetId,
  portId: instances.portId,
  systemVolumeSizeGiB: instances.systemVolumeSizeGiB,
  recoveryPolicy: instances.recoveryPolicy,
  operationId: instances.operationId,
  createdAt: instances.createdAt,
  updatedAt: instances.updatedAt,
};

const listInput = pageInput.extend({
  q: z.string().trim().max(100).optional(),
  state: z.enum(instanceState.enumValues).optional(),
  /** Deleted instances are history; they are listed only when asked for. */
  includeDeleted: z.boolean().default(false),
  sort: z.enum(["name", "createdAt"]).default("createdAt"),
});

const like = (q: string | undefined) => (q ? `%${q.replace(/[%_\\]/g, (c) => `\\${c}`)}%` : undefined);
const notFound = () => new TRPCError({ code: "NOT_FOUND", message: "No such instance in this tenant." });

export const instancesRouter = createTRPCRouter({
  list: tenantProcedure("tenant-member")
    .input(listInput)
    .query(async ({ ctx, input }) => {
      const sortCol = { name: instances.name, createdAt: instances.createdAt }[input.sort];
      const ks = keyset(sortCol, instances.id, input.dir, input.cursor);
      const text = like(input.q);
      const rows = await ctx.db
        .select(instanceColumns)
        .from(instances)
        .innerJoin(pools, eq(pools.id, instances.poolId))
        .leftJoin(images, eq(images.id, instances.imageId))
        .where(
          and(
            eq(instances.tenantId, ctx.tenant.id),
            text ? ilike(instances.name, text) : undefined,
            input.state ? eq(instances.state, input.state) : input.includeDeleted ? undefined : ne(instances.state, "deleted"),
            ks.where,
          ),
        )
        .orderBy(...ks.order)
        .limit(input.limit + 1);
      return page(rows, input.limit, (r) => r[input.sort]);
    }),

  get: tenantProcedure("tenant-member")
    .input(z.object({ id: z.uuid() }))
    .query(async ({ ctx, input }) => {
      const [row] = await ctx.db
        .select({ ...instanceColumns, userData: instances.userData, sshKeyIds: instances.sshKeyIds, securityGroupIds: instances.securityGroupIds })
        .from(instances)
        .innerJoin(pools, eq(pools.id, instances.poolId))
        .leftJoin(images, eq(images.id, instances.imageId))
        .where(and(eq(instances.id, input.id), eq(instances.tenantId, ctx.tenant.id)));
      if (!row) throw notFound();
      // The operation is read with the tenant filter too: an operation id alone must never leak another tenant's steps.
      const [operation] = row.operationId
        ? await ctx.db
            .select({ id: operations.id, kind: operations.kind, status: operations.status, steps: operations.steps, currentStep: operations.currentStep, progress: operations.progress, error: operations.error, createdAt: operations.createdAt, updatedAt: operations.updatedAt })
            .from(operations)
            .where(and(eq(operations.id, row.operationId), eq(operations.tenantId, ctx.tenant.id)))
        : [];
      return { ...row, operation: operation ?? null };
    }),

  /** Operators: every tenant's instances with the node each runs on. */
  adminList: operatorProcedure("operator-viewer")
    .input(listInput.extend({ tenantId: z.uuid().optional(), poolId: z.uuid().optional() }))
    .query(async ({ ctx, input }) => {
      const sortCol = { name: instances.name, createdAt: instances.createdAt }[input.sort];
      const ks = keyset(sortCol, instances.id, input.dir, input.cursor);
      const text = like(input.q);
      const rows = await ctx.db
        .select({ ...instanceColumns, tenantId: instances.tenantId, tenantSlug: tenants.slug, nodeId: instances.nodeId, nodeName: nodes.name })
        .from(instances)
        .innerJoin(tenants, eq(tenants.id, instances.tenantId))
        .innerJoin(pools, eq(pools.id, instances.poolId))
        .leftJoin(images, eq(images.id, instances.imageId))
        .leftJoin(nodes, eq(nodes.id, instances.nodeId))
        .where(
          and(
            input.tenantId ? eq(instances.tenantId, input.tenantId) : undefined,
            input.poolId ? eq(instances.poolId, input.poolId) : undefined,
            text ? ilike(instances.name, text) : undefined,
            input.state ? eq(instances.state, input.state) : input.includeDeleted ? undefined : ne(instances.state, "deleted"),
            ks.where,
          ),
        )
        .orderBy(...ks.order)
        .limit(input.limit + 1);
      return page(rows, input.limit, (r) => r[input.sort]);
    }),
});
