// A tenant's own activity: the portal home (instances by state, recent work, what failed and why) and the activity
// log (the tenant's audit rows and operations, server-side pages and filters). Every query is filtered on
// ctx.tenant.id from tenantProcedure, never on an id from the input. Operators' business stays theirs: rows about
// hosts, DPUs, pools, storage back ends and provider networks are never listed, and any detail naming a host, node,
// DPU or BMC is stripped from what a tenant sees.
import { and, asc, count, desc, eq, gte, inArray, ne, notInArray, sql } from "drizzle-orm";
import { z } from "zod";
import { auditEvents, instances, operations, volumes } from "@/db/schema";
import { columnsOf } from "@/server/services/rows";
import { fieldError } from "../errors";
import { eqIf, listPage, newestFirstPageInput, within } from "../pagination";
import { createTRPCRouter, tenantProcedure } from "../trpc";
import { TRANSIENT_STATES } from "@/domain/instance-lifecycle";

/** Target types only operators act on; a row about one is not the tenant's to read even if it names the tenant. */
export const OPERATOR_ONLY_TARGETS = ["node", "dpu", "host", "pool", "disk_pool", "logical_pool", "provider_network"];

/** Keys of audit details that name the hardware under a tenant's resources (a node id, a host name, a BMC…). */
const HARDWARE_KEY = /^(node|host|dpu|bmc|parentNode|spare)/i;

/**
 * The details of an audit row as a tenant may see them: keys naming hosts, nodes, DPUs or BMCs removed at any depth;
 * a console row also loses the kind of node it ran on. Null when nothing is left.
 */
export function tenantDetails(action: string, details: Record<string, unknown> | null): Record<string, unknown> | null {
  if (!details) return null;
  const strip = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(strip);
    if (!v || typeof v !== "object") return v;
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) if (!HARDWARE_KEY.test(k)) out[k] = strip(x);
    return out;
  };
  const out = strip(details) as Record<string, unknown>;
  if (action.startsWith("console.")) delete out.kind;
  return Object.keys(out).length ? out : null;
}

const OPERATION_STATUSES = ["pending", "running", "cancelling", "succeeded", "failed", "cancelled"] as const;
const UNDER_WAY = ["pending", "running", "cancelling"];
/** How far back the home looks for failed operations that nothing has made good since. */
const FAILED_WINDOW_MS = 7 * 24 * 3600 * 1000;

// What a tenant sees of an operation: no input/result (they may carry placement), no step list (the count is enough
// here; the instance's page shows its steps).
const operationColumns = {
  ...columnsOf(operations, "id", "kind", "status", "targetType", "targetId", "targetName", "createdBy", "currentStep", "progress", "error"),
  stepsTotal: sql<number>`jsonb_array_length(${operations.steps})`.mapWith(Number),
  stepsDone: sql<number>`(select count(*) from jsonb_array_elements(${operations.steps}) s where s->>'status' in ('done', 'skipped'))`.mapWith(Number),
  createdAt: operations.createdAt,
  endedAt: operations.endedAt,
};

const tenantOperations = (tenantId: string) => and(eq(operations.tenantId, tenantId), notInArray(operations.targetType, OPERATOR_ONLY_TARGETS));
const tenantAudit = (tenantId: string) => and(eq(auditEvents.tenantId, tenantId), notInArray(auditEvents.targetType, OPERATOR_ONLY_TARGETS));

const timeRange = { from: z.date().optional(), to: z.date().optional() };
function checkRange(input: { from?: Date; to?: Date }) {
  if (input.from && input.to && input.from > input.to) throw fieldError("to", "The end of the time range is before its start.", "BAD_REQUEST");
}

export const activityRouter = createTRPCRouter({
  /** The portal home: instances by state, quota lives in quotas.get, the last operations, and what failed. */
  home: tenantProcedure("tenant-member").query(async ({ ctx }) => {
    const tenantId = ctx.tenant.id;
    const byState = await ctx.db
      .select({ state: instances.state, n: count() })
      .from(instances)
      .where(and(eq(instances.tenantId, tenantId), ne(instances.state, "deleted")))
      .groupBy(instances.state)
      .orderBy(asc(instances.state));
    const recentOperations = await ctx.db
      .select(operationColumns)
      .from(operations)
      .where(tenantOperations(tenantId))
      .orderBy(desc(operations.createdAt), desc(operations.id))
      .limit(10);
    const failedInstances = await ctx.db
      .select({ id: instances.id, name: instances.name, reason: instances.stateReason, since: instances.updatedAt })
      .from(instances)
      .where(and(eq(instances.tenantId, tenantId), eq(instances.state, "failed")))
      .orderBy(desc(instances.updatedAt))
      .limit(20);
    const failedVolumes = await ctx.db
      .select({ id: volumes.id, name: volumes.name, reason: volumes.error, since: volumes.updatedAt })
      .from(volumes)
      .where(and(eq(volumes.tenantId, tenantId), eq(volumes.state, "error")))
      .orderBy(desc(volumes.updatedAt))
      .limit(20);
    // Failed lately and not made good since (no later successful operation on the same target). The subquery names
    // the outer columns literally: drizzle leaves them unqualified in a one-table query.
    const failedOperations = await ctx.db
      .select(operationColumns)
      .from(operations)
      .where(
        and(
          tenantOperations(tenantId),
          eq(operations.status, "failed"),
          gte(operations.createdAt, new Date(Date.now() - FAILED_WINDOW_MS)),
          sql`not exists (select 1 from operations later where later.target_type = "operations"."target_type" and later.target_id = "operations"."target_id" and later.created_at > "operations"."created_at" and later.status = 'succeeded')`,
        ),
      )
      .orderBy(desc(operations.createdAt), desc(operations.id))
      .limit(10);
    const [underWay] = await ctx.db
      .select({ n: count() })
      .from(operations)
      .where(and(tenantOperations(tenantId), inArray(operations.status, UNDER_WAY)));
    const instancesByState = Object.fromEntries(byState.map((r) => [r.state, r.n])) as Record<string, number>;
    const busy = (underWay?.n ?? 0) > 0 || [...TRANSIENT_STATES].some((s) => (instancesByState[s] ?? 0) > 0);
    return { instancesByState, recentOperations, failed: { instances: failedInstances, volumes: failedVolumes, operations: failedOperations }, busy };
  }),

  /** The tenant's audit rows, newest first, by action, person and time. */
  log: tenantProcedure("tenant-member")
    .input(
      newestFirstPageInput.extend({
        action: z.string().trim().max(64).optional(),
        actor: z.string().trim().max(320).optional(),
        ...timeRange,
      }),
    )
    .query(async ({ ctx, input }) => {
      checkRange(input);
      const query = ctx.db
        .select({
          ...columnsOf(auditEvents, "id", "at", "actorEmail", "action", "targetType", "targetId", "targetName", "requestId", "details"),
        })
        .from(auditEvents);
      const filters = [eqIf(auditEvents.action, input.action), eqIf(auditEvents.actorEmail, input.actor), within(auditEvents.at, input)];
      const p = await listPage(query, input, { sort: { at: auditEvents.at }, id: auditEvents.id }, tenantAudit(ctx.tenant.id), ...filters);
      return { ...p, items: p.items.map((r) => ({ ...r, details: tenantDetails(r.action, r.details) })) };
    }),

  /** The tenant's operations, newest first, by status and time. */
  operations: tenantProcedure("tenant-member")
    .input(
      newestFirstPageInput.extend({
        status: z.enum(OPERATION_STATUSES).optional(),
        ...timeRange,
      }),
    )
    .query(async ({ ctx, input }) => {
      checkRange(input);
      const filters = [eqIf(operations.status, input.status), within(operations.createdAt, input)];
      const order = { sort: { createdAt: operations.createdAt }, id: operations.id };
      return listPage(ctx.db.select(operationColumns).from(operations), input, order, tenantOperations(ctx.tenant.id), ...filters);
    }),

  /** The actions and people that occur in the tenant's log, for the filter menus. */
  facets: tenantProcedure("tenant-member").query(async ({ ctx }) => {
    const where = tenantAudit(ctx.tenant.id);
    const actions = await ctx.db.selectDistinct({ v: auditEvents.action }).from(auditEvents).where(where).orderBy(asc(auditEvents.action)).limit(500);
    const actors = await ctx.db
      .selectDistinct({ v: auditEvents.actorEmail })
      .from(auditEvents)
      .where(and(where, sql`${auditEvents.actorEmail} is not null`))
      .orderBy(asc(auditEvents.actorEmail))
      .limit(500);
    return { actions: actions.map((r) => r.v), actors: actors.map((r) => r.v as string) };
  }),
});
