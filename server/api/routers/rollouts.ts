// Rolling DPU OS updates (issue #17 point 5): start one over a pool or a selection of hosts, follow each host, pause,
// resume and abort. The rollout's rows are its durable state; workflow rollout.run (server/workflows/rollouts.ts) does
// the work. Every change is audited in its transaction and takes the rollout's row lock, which the workflow's tick
// takes too, so a pause or abort is never lost between two of its decisions.
import { TRPCError } from "@trpc/server";
import { and, asc, eq, inArray } from "drizzle-orm";
import { z } from "zod";
import type { Tx } from "@/db/client";
import { nodes, pools, rolloutHosts, rollouts } from "@/db/schema";
import { rolloutStartSchema } from "@/db/validation/rollouts";
import { rolloutCan, type RolloutStatus } from "@/domain/rollouts";
import { audit } from "@/server/services/audit";
import { checkMgmtTarget } from "@/server/lib/mgmt-network";
import { catalog } from "@/server/workflows/catalog";
import { enqueue } from "@/server/workflows/start";
import { fieldError } from "../errors";
import { newestFirstPageInput, listPage } from "../pagination";
import { createTRPCRouter, operatorProcedure } from "../trpc";

const NOT_FOUND = "That rollout does not exist.";
const columns = {
  id: rollouts.id,
  imageUri: rollouts.imageUri,
  maxUnavailable: rollouts.maxUnavailable,
  instancePolicy: rollouts.instancePolicy,
  poolId: rollouts.poolId,
  poolName: pools.name,
  status: rollouts.status,
  reason: rollouts.reason,
  createdBy: rollouts.createdBy,
  createdAt: rollouts.createdAt,
  endedAt: rollouts.endedAt,
};

async function lockRollout(tx: Tx, id: string) {
  const [r] = await tx.select().from(rollouts).where(eq(rollouts.id, id)).for("update");
  if (!r) throw new TRPCError({ code: "NOT_FOUND", message: NOT_FOUND });
  return r;
}

function refuse(v: { ok: true } | { ok: false; reason: string }) {
  if (!v.ok) throw new TRPCError({ code: "PRECONDITION_FAILED", message: v.reason });
}

const byId = z.object({ id: z.uuid() }).strict();

export const rolloutsRouter = createTRPCRouter({
  list: operatorProcedure("operator-viewer")
    .input(newestFirstPageInput.extend({ sort: z.enum(["createdAt"]).default("createdAt") }))
    .query(async ({ ctx, input }) => {
      const query = ctx.db.select(columns).from(rollouts).leftJoin(pools, eq(pools.id, rollouts.poolId));
      return listPage(query, input, { sort: { createdAt: rollouts.createdAt }, id: rollouts.id });
    }),

  /** A rollout with every host's progress, in the order the hosts are taken. */
  get: operatorProcedure("operator-viewer")
    .input(byId)
    .query(async ({ ctx, input }) => {
      const [r] = await ctx.db.select(columns).from(rollouts).leftJoin(pools, eq(pools.id, rollouts.poolId)).where(eq(rollouts.id, input.id));
      if (!r) throw new TRPCError({ code: "NOT_FOUND", message: NOT_FOUND });
      const hosts = await ctx.db
        .select({
          hostId: rolloutHosts.hostId,
          hostName: rolloutHosts.hostName,
          state: rolloutHosts.state,
          message: rolloutHosts.message,
          operationIds: rolloutHosts.operationIds,
          startedAt: rolloutHosts.startedAt,
          endedAt: rolloutHosts.endedAt,
        })
        .from(rolloutHosts)
        .where(eq(rolloutHosts.rolloutId, r.id))
        .orderBy(asc(rolloutHosts.position));
      const status = r.status as RolloutStatus;
      const allowed = { pause: rolloutCan.pause(status), resume: rolloutCan.resume(status), abort: rolloutCan.abort(status) };
      return { ...r, hosts, allowed };
    }),

  /** Starts a rollout over a pool's hosts or the selected hosts (hosts only; each host's DPUs take the image). */
  start: operatorProcedure("operator-admin")
    .input(rolloutStartSchema)
    .mutation(async ({ ctx, input }) => {
      // The DPUs' BMCs download the image: it must be on the management network, as for a single DPU's update.
      const where = await checkMgmtTarget(input.imageUri);
      if (!where.ok) throw fieldError("imageUri", where.message, "BAD_REQUEST");
      const id = await ctx.db.transaction(async (tx) => {
        let pool: { id: string; name: string } | undefined;
        if (input.poolId) {
          [pool] = await tx.select({ id: pools.id, name: pools.name }).from(pools).where(eq(pools.id, input.poolId));
          if (!pool) throw fieldError("poolId", "That pool does not exist (it may have been deleted).", "BAD_REQUEST");
        }
        const hosts = await tx
          .select({ id: nodes.id, name: nodes.name, kind: nodes.kind })
          .from(nodes)
          .where(input.poolId ? and(eq(nodes.poolId, input.poolId), eq(nodes.kind, "host")) : inArray(nodes.id, input.hostIds!))
          .orderBy(asc(nodes.name));
        if (input.hostIds) {
          const missing = input.hostIds.length - hosts.length;
          if (missing) throw fieldError("hostIds", `${missing} of the selected nodes no longer exist.`, "BAD_REQUEST");
          const dpus = hosts.filter((h) => h.kind !== "host");
          if (dpus.length) throw fieldError("hostIds", `Select hosts, not DPUs: ${dpus.map((d) => d.name).join(", ")}.`, "BAD_REQUEST");
        }
        if (!hosts.length) throw fieldError("poolId", `Pool ${pool!.name} has no hosts.`, "BAD_REQUEST");
        const [r] = await tx
          .insert(rollouts)
          .values({
            imageUri: input.imageUri,
            maxUnavailable: input.maxUnavailable,
            instancePolicy: input.instancePolicy,
            poolId: input.poolId ?? null,
            createdBy: ctx.principal.email,
          })
          .returning({ id: rollouts.id });
        await tx.insert(rolloutHosts).values(hosts.map((h, position) => ({ rolloutId: r!.id, hostId: h.id, hostName: h.name, position })));
        await audit(tx, ctx, {
          action: "rollout.start",
          targetType: "rollout",
          targetId: r!.id,
          targetName: pool?.name ?? `${hosts.length} hosts`,
          details: { imageUri: input.imageUri, maxUnavailable: input.maxUnavailable, instancePolicy: input.instancePolicy, hosts: hosts.map((h) => h.name) },
        });
        return r!.id;
      });
      await enqueue(catalog.rolloutRun, [id]);
      return { id };
    }),

  /** Stops starting hosts; hosts updating now finish. */
  pause: operatorProcedure("operator-admin")
    .input(byId)
    .mutation(async ({ ctx, input }) =>
      ctx.db.transaction(async (tx) => {
        const r = await lockRollout(tx, input.id);
        refuse(rolloutCan.pause(r.status));
        await tx
          .update(rollouts)
          .set({ status: "paused", reason: `Paused by ${ctx.principal.email}.`, updatedAt: new Date() })
          .where(eq(rollouts.id, r.id));
        await audit(tx, ctx, { action: "rollout.pause", targetType: "rollout", targetId: r.id, targetName: r.imageUri });
        return { id: r.id };
      }),
    ),

  /** Goes on where it stopped; hosts that failed are tried again (the operator has dealt with the cause). */
  resume: operatorProcedure("operator-admin")
    .input(byId)
    .mutation(async ({ ctx, input }) => {
      const startRun = await ctx.db.transaction(async (tx) => {
        const r = await lockRollout(tx, input.id);
        refuse(rolloutCan.resume(r.status));
        const retried = await tx
          .update(rolloutHosts)
          .set({ state: "pending", message: null, operationIds: [], startedAt: null, endedAt: null })
          .where(and(eq(rolloutHosts.rolloutId, r.id), eq(rolloutHosts.state, "failed")))
          .returning({ name: rolloutHosts.hostName });
        await tx.update(rollouts).set({ status: "running", reason: null, runActive: true, updatedAt: new Date() }).where(eq(rollouts.id, r.id));
        await audit(tx, ctx, {
          action: "rollout.resume",
          targetType: "rollout",
          targetId: r.id,
          targetName: r.imageUri,
          details: { retried: retried.map((h) => h.name) },
        });
        // The run that paused may still be waiting for hosts in flight: it carries on; otherwise a new run starts.
        return !r.runActive;
      });
      if (startRun) await enqueue(catalog.rolloutRun, [input.id]);
      return { id: input.id };
    }),

  /** Ends the rollout: hosts not started are skipped, hosts updating now finish (an update is not cut short). */
  abort: operatorProcedure("operator-admin")
    .input(byId)
    .mutation(async ({ ctx, input }) =>
      ctx.db.transaction(async (tx) => {
        const r = await lockRollout(tx, input.id);
        refuse(rolloutCan.abort(r.status));
        const skipped = await tx
          .update(rolloutHosts)
          .set({ state: "skipped", message: "Not started: the rollout was aborted.", endedAt: new Date() })
          .where(and(eq(rolloutHosts.rolloutId, r.id), eq(rolloutHosts.state, "pending")))
          .returning({ name: rolloutHosts.hostName });
        await tx
          .update(rollouts)
          .set({ status: "aborted", reason: `Aborted by ${ctx.principal.email}.`, endedAt: new Date(), updatedAt: new Date() })
          .where(eq(rollouts.id, r.id));
        await audit(tx, ctx, {
          action: "rollout.abort",
          targetType: "rollout",
          targetId: r.id,
          targetName: r.imageUri,
          details: { skipped: skipped.map((h) => h.name) },
        });
        return { id: r.id };
      }),
    ),
});
