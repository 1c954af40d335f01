// Nodes (hosts and their DPU children): server-side list with filters, detail with the actions the lifecycle
// allows, enrollment (single and CSV bulk), lifecycle transitions, power/boot/maintenance/move (bulk with
// per-node results), steps on children, DPU firmware updates, delete. Long work runs as workflows and
// returns an operation to watch.
import { TRPCError } from "@trpc/server";
import { and, asc, count, desc, eq, exists, inArray, isNotNull, isNull, or, sql } from "drizzle-orm";
import { alias } from "drizzle-orm/pg-core";
import ipaddr from "ipaddr.js";
import { z } from "zod";
import { hardwareEvents, instances, nodes, operations, pools } from "@/db/schema";
import { columnsOf } from "@/server/services/rows";
import {
  bootDeviceSchema,
  enrollSchema,
  idsSchema,
  isoUrlSchema,
  nodeFilterSchema,
  nodeSortKeys,
  powerActionSchema,
  runStepSchema,
} from "@/db/validation/nodes";
import { type NodeAction, type NodeFacts, nodeCan, type ProvisionState, transition } from "@/domain/node-lifecycle";
import { type BootOverrideOutcome, bootOverrideOutcome, createBmcDriver } from "@/server/drivers/bmc";
import { checkMgmtTarget } from "@/server/lib/mgmt-network";
import { seal } from "@/server/lib/secrets";
import { driverFor, forgetDriver } from "@/server/workflows/bmc-access";
import { enrollNode, probeMessage } from "@/server/workflows/enroll";
import { catalog, type OperationEntry, type OperationId } from "@/server/workflows/catalog";
import { recordEvent } from "@/server/workflows/events";
import { startOperation } from "@/server/workflows/start";
import { audit } from "@/server/services/audit";
import { applyOverlaySoon } from "@/server/services/overlay-apply";
import { passthroughMismatch, sendPassthrough } from "@/server/services/passthrough";
import { fieldError } from "../errors";
import { listPage, pageInput } from "../pagination";
import { type Context, createTRPCRouter, operatorProcedure } from "../trpc";
import { matchesText } from "@/server/lib/like";

const child = alias(nodes, "child");
const parent = alias(nodes, "parent");

/** Columns safe to send to a browser: never credentials or agent tokens. */
const publicCols = {
  ...columnsOf(
    nodes,
    "id",
    "name",
    "kind",
    "parentNodeId",
    "poolId",
    "bmcDriver",
    "bmcAddress",
    "bmcAccess",
    "bmcVerifyTls",
    "bmcCredentialsFingerprint",
    "provisionState",
    "powerState",
    "health",
    "maintenance",
    "maintenanceReason",
    "fault",
    "lastError",
    "dedicatedPower",
    "agentUrl",
    "agentStatus",
    "agentHeartbeatAt",
    "underlayIp",
    "underlayIpSource",
    "traits",
    "bmcSeenAt",
    "inspectedAt",
    "createdAt",
    "updatedAt",
  ),
};

const ACTIONS: NodeAction[] = [
  "manage",
  "inspect",
  "provide",
  "abort",
  "maintenanceOn",
  "maintenanceOff",
  "moveToPool",
  "delete",
  "setBootDevice",
  "firmwareUpdate",
  "virtualMediaBoot",
];

function facts(n: {
  kind: string;
  provisionState: string;
  powerState: string;
  maintenance: boolean;
  fault: string | null;
  inventory?: unknown;
  bmcDriver?: string;
  bmcCredentialsFingerprint?: string | null;
}): NodeFacts {
  // The power actions the BMC accepts, when its driver reported them with the inventory (IPMI does).
  const powerActions = (n.inventory as { powerActions?: unknown } | null | undefined)?.powerActions;
  return {
    kind: n.kind as "host" | "dpu",
    provisionState: n.provisionState,
    powerState: n.powerState,
    maintenance: n.maintenance,
    fault: n.fault,
    powerActions: Array.isArray(powerActions) ? (powerActions as string[]) : null,
    bmcDriver: n.bmcDriver,
    // Credentials and their fingerprint are stored together (nodes_credentials_set), and only the fingerprint is public.
    bmcCredentialsMissing: n.kind === "dpu" && n.bmcCredentialsFingerprint === null,
  };
}

/** Every action with its verdict, so the UI disables buttons with the same reasons the server enforces. */
export function allowedActions(n: NodeFacts) {
  const out: Record<string, { ok: boolean; reason?: string }> = {};
  for (const a of ACTIONS) {
    const v = (nodeCan[a] as (n: NodeFacts) => { ok: boolean; reason?: string })(n);
    out[a] = v.ok ? { ok: true } : { ok: false, reason: v.reason };
  }
  for (const p of powerActionSchema.options) {
    const v = nodeCan.power(n, p);
    out[`power.${p}`] = v.ok ? { ok: true } : { ok: false, reason: v.reason };
  }
  return out;
}

async function getNodeOr404(ctx: Context, id: string) {
  const [n] = await ctx.db.select().from(nodes).where(eq(nodes.id, id));
  if (!n) throw new TRPCError({ code: "NOT_FOUND", message: "That node does not exist (it may have been deleted)." });
  return n;
}

function refuse(reason: string): never {
  throw new TRPCError({ code: "PRECONDITION_FAILED", message: reason });
}

type BulkResult = { id: string; name: string; ok: boolean; message: string; operationId?: string };

async function forEachNode(ctx: Context, ids: string[], fn: (n: typeof nodes.$inferSelect) => Promise<Omit<BulkResult, "id" | "name">>): Promise<BulkResult[]> {
  const rows = await ctx.db.select().from(nodes).where(inArray(nodes.id, ids));
  const byId = new Map(rows.map((r) => [r.id, r]));
  const out: BulkResult[] = [];
  for (const id of ids) {
    const n = byId.get(id);
    if (!n) {
      out.push({ id, name: id, ok: false, message: "No such node (it may have been deleted)." });
      continue;
    }
    try {
      out.push({ id, name: n.name, ...(await fn(n)) });
    } catch (e) {
      out.push({ id, name: n.name, ok: false, message: (e as Error).message });
    }
  }
  return out;
}

/** Starts a node workflow: its operation and audit entry (action = the workflow's name) in one transaction, then the run. */
async function startNodeOperation<A extends unknown[]>(
  ctx: Context & { principal: { userId: string; email: string } },
  n: { id: string; name: string },
  entry: OperationEntry<A>,
  args: (opId: OperationId) => [...A],
  input?: Record<string, unknown>,
) {
  const op = await ctx.db.transaction(async (tx) => {
    const started = await startOperation(tx, entry, { target: { id: n.id, name: n.name }, createdBy: ctx.principal.email, args, input });
    await audit(tx, ctx, { action: entry.name, targetType: "node", targetId: n.id, targetName: n.name, details: { operationId: started.id, ...input } });
    return started;
  });
  await op.enqueue();
  return op.id;
}

/**
 * A firmware image URL is handed to a BMC to download: it must be on the management network like any address Anvil
 * contacts, and resolve from Anvil so that can be checked (the BMC resolves it again itself when it downloads).
 */
async function assertImageUrl(field: string, url: string) {
  const where = await checkMgmtTarget(url);
  if (!where.ok) throw fieldError(field, where.message, "BAD_REQUEST");
}

/** The columns the list sorts by, and its tie-breaker. */
const listOrder = {
  sort: { name: nodes.name, provisionState: nodes.provisionState, powerState: nodes.powerState, health: nodes.health, createdAt: nodes.createdAt },
  id: nodes.id,
};

export const nodesRouter = createTRPCRouter({
  list: operatorProcedure("operator-viewer")
    .input(pageInput.extend(nodeFilterSchema.shape).extend({ sort: z.enum(nodeSortKeys).default("name"), kind: z.enum(["host", "dpu"]).optional() }))
    .query(async ({ ctx, input }) => {
      const hasDpu = exists(
        ctx.db
          .select({ one: sql`1` })
          .from(child)
          .where(and(eq(child.parentNodeId, nodes.id), eq(child.kind, "dpu"))),
      );
      const where = and(
        input.kind ? eq(nodes.kind, input.kind) : input.includeChildren ? undefined : isNull(nodes.parentNodeId),
        input.poolId ? eq(nodes.poolId, input.poolId) : undefined,
        input.state ? eq(nodes.provisionState, input.state) : undefined,
        input.power ? eq(nodes.powerState, input.power) : undefined,
        input.health ? eq(nodes.health, input.health) : undefined,
        input.maintenance === undefined ? undefined : eq(nodes.maintenance, input.maintenance),
        input.fault === undefined ? undefined : input.fault ? isNotNull(nodes.fault) : isNull(nodes.fault),
        input.hasDpu === undefined ? undefined : input.hasDpu ? hasDpu : sql`not ${hasDpu}`,
        matchesText(input.q, nodes.name, nodes.bmcAddress),
      );
      const query = ctx.db
        .select({
          ...publicCols,
          poolName: pools.name,
          parentName: parent.name,
          children: sql<number>`(select count(*)::int from nodes c where c.parent_node_id = ${nodes.id})`,
          cpu: sql<string | null>`${nodes.inventory}->'cpu'->>'model'`,
          memoryGiB: sql<number | null>`(${nodes.inventory}->>'memoryGiB')::int`,
          manufacturer: sql<string | null>`${nodes.inventory}->>'manufacturer'`,
          model: sql<string | null>`${nodes.inventory}->>'model'`,
          firmware: sql<unknown>`${nodes.inventory}->'firmware'`,
        })
        .from(nodes)
        .leftJoin(pools, eq(pools.id, nodes.poolId))
        .leftJoin(parent, eq(parent.id, nodes.parentNodeId));
      return listPage(query, input, listOrder, where);
    }),

  get: operatorProcedure("operator-viewer")
    .input(z.object({ id: z.uuid() }))
    .query(async ({ ctx, input }) => {
      const [n] = await ctx.db
        .select({ ...publicCols, inventory: nodes.inventory, poolName: pools.name })
        .from(nodes)
        .leftJoin(pools, eq(pools.id, nodes.poolId))
        .where(eq(nodes.id, input.id));
      if (!n) throw new TRPCError({ code: "NOT_FOUND", message: "That node does not exist (it may have been deleted)." });
      const children = await ctx.db.select(publicCols).from(nodes).where(eq(nodes.parentNodeId, n.id)).orderBy(asc(nodes.name));
      const parentRow = n.parentNodeId
        ? ((await ctx.db.select({ id: nodes.id, name: nodes.name, powerState: nodes.powerState }).from(nodes).where(eq(nodes.id, n.parentNodeId)))[0] ?? null)
        : null;
      const events = await ctx.db
        .select()
        .from(hardwareEvents)
        .where(inArray(hardwareEvents.nodeId, [n.id, ...children.map((c) => c.id)]))
        .orderBy(desc(hardwareEvents.at))
        .limit(20);
      const ops = await ctx.db
        .select()
        .from(operations)
        .where(and(eq(operations.targetType, "node"), inArray(operations.targetId, [n.id, ...children.map((c) => c.id)])))
        .orderBy(desc(operations.createdAt))
        .limit(10);
      return {
        ...n,
        parent: parentRow,
        children: children.map((c) => ({ ...c, allowed: allowedActions(facts(c)) })),
        events,
        operations: ops,
        allowed: allowedActions(facts(n)),
      };
    }),

  /** Enroll one node: probes its BMC (and DPU BMC) first; refuses with a field error, enrolls nothing, on failure. */
  enroll: operatorProcedure("operator-admin")
    .input(enrollSchema)
    .mutation(async ({ ctx, input }) => {
      if (input.poolId) {
        const [p] = await ctx.db.select({ id: pools.id }).from(pools).where(eq(pools.id, input.poolId));
        if (!p) throw fieldError("poolId", "That pool does not exist.", "BAD_REQUEST");
      }
      const r = await enrollNode(ctx.db, input, ctx);
      if (!r.ok) throw fieldError(r.field, r.message, r.field === "name" || r.message.includes("already enrolled") ? "CONFLICT" : "BAD_REQUEST");
      return r;
    }),

  /** Bulk enroll from CSV text; returns the operation whose result lists every row. */
  enrollBulk: operatorProcedure("operator-admin")
    .input(
      z.object({
        csv: z
          .string()
          .min(1, "The file is empty")
          .max(4 * 1024 * 1024, "At most 4 MiB"),
      }),
    )
    .mutation(async ({ ctx, input }) => {
      const { parseEnrollCsv } = await import("@/domain/enroll-csv");
      const parsed = parseEnrollCsv(input.csv);
      if ("error" in parsed) throw fieldError("csv", parsed.error, "BAD_REQUEST");
      const op = await ctx.db.transaction(async (tx) => {
        // Sealed: the engine keeps workflow inputs in its tables, and the CSV holds BMC passwords and agent tokens.
        const sealed = seal(input.csv);
        const started = await startOperation(tx, catalog.nodeEnrollBulk, {
          target: { name: `${parsed.rows.length} rows` },
          createdBy: ctx.principal.email,
          args: (opId) => [opId, sealed, { userId: ctx.principal.userId, email: ctx.principal.email, requestId: ctx.requestId }],
        });
        await audit(tx, ctx, {
          action: "node.enroll_bulk",
          targetType: "node",
          targetName: `${parsed.rows.length} rows`,
          details: { operationId: started.id },
        });
        return started;
      });
      await op.enqueue();
      return { operationId: op.id, rows: parsed.rows.length };
    }),

  /** Named lifecycle transitions an operator may request: manage, provide, abort. Inspect has its own verb. */
  transition: operatorProcedure("operator-admin")
    .input(z.object({ id: z.uuid(), event: z.enum(["manage", "provide", "abort"]) }))
    .mutation(async ({ ctx, input }) => {
      return ctx.db.transaction(async (tx) => {
        const [n] = await tx.select().from(nodes).where(eq(nodes.id, input.id)).for("update");
        if (!n) throw new TRPCError({ code: "NOT_FOUND", message: "That node does not exist (it may have been deleted)." });
        const v = nodeCan[input.event](facts(n));
        if (!v.ok) refuse(v.reason);
        let to = transition(n.provisionState as ProvisionState, input.event);
        // "manage" from enroll verifies the BMC right away: enroll → verifying → manageable (or back to enroll).
        if (input.event === "manage" && n.provisionState === "enroll") {
          try {
            await driverFor(n).getPowerState();
            to = "manageable";
          } catch (e) {
            refuse(probeMessage(e, n.bmcAddress));
          }
        }
        await tx.update(nodes).set({ provisionState: to, lastError: null }).where(eq(nodes.id, n.id));
        await recordEvent(tx, n.id, {
          kind: "lifecycle",
          severity: "info",
          message: `${n.provisionState} --${input.event}--> ${to} (by ${ctx.principal.email})`,
        });
        await audit(tx, ctx, {
          action: `node.${input.event}`,
          targetType: "node",
          targetId: n.id,
          targetName: n.name,
          details: { from: n.provisionState, to },
        });
        return { id: n.id, provisionState: to };
      });
    }),

  inspect: operatorProcedure("operator-admin")
    .input(z.object({ ids: idsSchema }))
    .mutation(async ({ ctx, input }) =>
      forEachNode(ctx, input.ids, async (n) => {
        const v = nodeCan.inspect(facts(n));
        if (!v.ok) return { ok: false, message: v.reason };
        await ctx.db
          .update(nodes)
          .set({ provisionState: transition(n.provisionState as ProvisionState, "inspect") })
          .where(eq(nodes.id, n.id));
        const operationId = await startNodeOperation(ctx, n, catalog.nodeInspect, (op) => [n.id, op]);
        return { ok: true, message: "Inspection started.", operationId };
      }),
    ),

  power: operatorProcedure("operator-admin")
    .input(z.object({ ids: idsSchema, action: powerActionSchema }))
    .mutation(async ({ ctx, input }) =>
      forEachNode(ctx, input.ids, async (n) => {
        const v = nodeCan.power(facts(n), input.action);
        if (!v.ok) return { ok: false, message: v.reason };
        const operationId = await startNodeOperation(ctx, n, catalog.nodePower, (op) => [n.id, input.action, op, ctx.principal.email], {
          action: input.action,
        });
        return { ok: true, message: `Power ${input.action.replace("_", " ")} requested.`, operationId };
      }),
    ),

  setBootDevice: operatorProcedure("operator-admin")
    .input(z.object({ id: z.uuid(), device: bootDeviceSchema, persistent: z.boolean().default(false), uefi: z.boolean().default(true) }))
    .mutation(async ({ ctx, input }) => {
      const n = await getNodeOr404(ctx, input.id);
      const v = nodeCan.setBootDevice(facts(n));
      if (!v.ok) refuse(v.reason);
      const asked = { persistent: input.persistent, uefi: input.uefi };
      let outcome: BootOverrideOutcome;
      try {
        // What the BMC holds, read back — not what was asked (a BMC may keep a one-time override for every boot).
        outcome = bootOverrideOutcome(input.device, asked, await driverFor(n).setBootDevice(input.device, asked));
      } catch (e) {
        refuse(probeMessage(e, n.bmcAddress));
      }
      await ctx.db.transaction(async (tx) => {
        await recordEvent(tx, n.id, {
          kind: "lifecycle",
          severity: outcome.honoured ? "info" : "warning",
          message: `Boot device set to ${outcome.text}, by ${ctx.principal.email}.`,
        });
        await audit(tx, ctx, {
          action: "node.set_boot_device",
          targetType: "node",
          targetId: n.id,
          targetName: n.name,
          details: { ...input, applied: { device: outcome.device, persistent: outcome.persistent } },
        });
      });
      return {
        ok: true,
        applied: { device: outcome.device, persistent: outcome.persistent },
        honoured: outcome.honoured,
        message: `Boot device set to ${outcome.text}.`,
      };
    }),

  setMaintenance: operatorProcedure("operator-admin")
    .input(z.object({ ids: idsSchema, on: z.boolean(), reason: z.string().trim().max(500).optional() }))
    .mutation(async ({ ctx, input }) => {
      if (input.on && !input.reason) throw fieldError("reason", "Say why the node goes into maintenance.", "BAD_REQUEST");
      return forEachNode(ctx, input.ids, async (n) => {
        const v = input.on ? nodeCan.maintenanceOn(facts(n)) : nodeCan.maintenanceOff(facts(n));
        if (!v.ok) return { ok: false, message: v.reason };
        await ctx.db.transaction(async (tx) => {
          await tx
            .update(nodes)
            .set({ maintenance: input.on, maintenanceReason: input.on ? input.reason : null })
            .where(eq(nodes.id, n.id));
          await recordEvent(tx, n.id, {
            kind: "lifecycle",
            severity: "info",
            message: input.on ? `Maintenance on: ${input.reason} (${ctx.principal.email})` : `Maintenance off (${ctx.principal.email})`,
          });
          await audit(tx, ctx, {
            action: input.on ? "node.maintenance_on" : "node.maintenance_off",
            targetType: "node",
            targetId: n.id,
            targetName: n.name,
            details: { reason: input.reason },
          });
        });
        return { ok: true, message: input.on ? "In maintenance." : "Maintenance ended." };
      });
    }),

  moveToPool: operatorProcedure("operator-admin")
    .input(z.object({ ids: idsSchema, poolId: z.uuid() }))
    .mutation(async ({ ctx, input }) => {
      const [p] = await ctx.db.select().from(pools).where(eq(pools.id, input.poolId));
      if (!p) throw fieldError("poolId", "That pool does not exist.", "BAD_REQUEST");
      return forEachNode(ctx, input.ids, async (n) => {
        const v = nodeCan.moveToPool(facts(n));
        if (!v.ok) return { ok: false, message: v.reason };
        if (n.poolId === p.id) return { ok: true, message: `Already in ${p.name}.` };
        await ctx.db.transaction(async (tx) => {
          await tx
            .update(nodes)
            .set({ poolId: p.id })
            .where(or(eq(nodes.id, n.id), eq(nodes.parentNodeId, n.id)));
          await audit(tx, ctx, { action: "node.move", targetType: "node", targetId: n.id, targetName: n.name, details: { from: n.poolId, to: p.id } });
        });
        return { ok: true, message: `Moved to ${p.name}.` };
      });
    }),

  /**
   * Sets a DPU's underlay address (its VXLAN tunnel endpoint) by hand, overriding what its agent reports at inspect;
   * null clears the override (the next inspection records the agent's address again). The overlay follows at once.
   */
  setUnderlayIp: operatorProcedure("operator-admin")
    .input(z.object({ id: z.uuid(), underlayIp: z.string().trim().max(64).nullable() }))
    .mutation(async ({ ctx, input }) => {
      const ip = input.underlayIp === null || input.underlayIp === "" ? null : input.underlayIp;
      let norm: string | null = null;
      if (ip !== null) {
        if (!ipaddr.isValid(ip) || (ipaddr.IPv4.isValid(ip) && !ipaddr.IPv4.isValidFourPartDecimal(ip)))
          throw fieldError("underlayIp", `"${ip}" is not an IP address; give the DPU's VTEP address, e.g. 192.0.2.17.`, "BAD_REQUEST");
        const range = ipaddr.parse(ip).range();
        if (["unspecified", "multicast", "broadcast", "loopback", "linkLocal"].includes(range))
          throw fieldError("underlayIp", `${ip} is a ${range} address; a tunnel endpoint needs a unicast address other DPUs can reach.`, "BAD_REQUEST");
        norm = ipaddr.parse(ip).toString();
      }
      const out = await ctx.db.transaction(async (tx) => {
        const [n] = await tx.select().from(nodes).where(eq(nodes.id, input.id)).for("update");
        if (!n) throw new TRPCError({ code: "NOT_FOUND", message: "That node does not exist (it may have been deleted)." });
        if (n.kind !== "dpu") throw fieldError("underlayIp", "Only a DPU has an underlay address; set it on the host's DPU.", "BAD_REQUEST");
        if (norm) {
          const [other] = await tx
            .select({ name: nodes.name })
            .from(nodes)
            .where(and(eq(nodes.underlayIp, norm), sql`${nodes.id} <> ${n.id}`));
          if (other) throw fieldError("underlayIp", `${norm} is already the underlay address of DPU ${other.name}.`, "CONFLICT");
        }
        await tx
          .update(nodes)
          .set({ underlayIp: norm, underlayIpSource: norm ? "operator" : null })
          .where(eq(nodes.id, n.id));
        await recordEvent(tx, n.id, {
          kind: "lifecycle",
          severity: "info",
          message: norm ? `Underlay address (VTEP) set to ${norm} by ${ctx.principal.email}.` : `Underlay address override cleared by ${ctx.principal.email}.`,
        });
        await audit(tx, ctx, {
          action: "node.set_underlay_ip",
          targetType: "node",
          targetId: n.id,
          targetName: n.name,
          details: { from: n.underlayIp, to: norm },
        });
        return { id: n.id, underlayIp: norm, underlayIpSource: norm ? ("operator" as const) : null };
      });
      await applyOverlaySoon();
      return out;
    }),

  delete: operatorProcedure("operator-admin")
    .input(z.object({ id: z.uuid() }))
    .mutation(async ({ ctx, input }) => {
      return ctx.db.transaction(async (tx) => {
        const [n] = await tx.select().from(nodes).where(eq(nodes.id, input.id)).for("update");
        if (!n) throw new TRPCError({ code: "NOT_FOUND", message: "That node does not exist (it may have been deleted)." });
        const v = nodeCan.delete(facts(n));
        if (!v.ok) refuse(v.reason);
        const kids = await tx.select({ id: nodes.id, name: nodes.name }).from(nodes).where(eq(nodes.parentNodeId, n.id));
        await tx.delete(nodes).where(eq(nodes.id, n.id)); // children cascade
        forgetDriver(n.id);
        for (const k of kids) forgetDriver(k.id);
        await audit(tx, ctx, { action: "node.delete", targetType: "node", targetId: n.id, targetName: n.name, details: { children: kids.map((k) => k.name) } });
        return { id: n.id, deletedChildren: kids.length };
      });
    }),

  /**
   * Run a step on a host and/or its DPU children (Ironic's execute_on_child_nodes /
   * limit_child_node_execution): power on/off, set boot device, firmware update (DPUs only).
   */
  runStep: operatorProcedure("operator-admin")
    .input(runStepSchema)
    .mutation(async ({ ctx, input }) => {
      const host = await getNodeOr404(ctx, input.id);
      if (host.kind !== "host") throw fieldError("id", "Steps run on a host (and optionally its DPUs); pick the host.", "BAD_REQUEST");
      const kids = await ctx.db.select().from(nodes).where(eq(nodes.parentNodeId, host.id));
      if (input.limitChildNodeExecution?.length) {
        const unknown = input.limitChildNodeExecution.filter((id) => !kids.some((k) => k.id === id));
        if (unknown.length) throw fieldError("limitChildNodeExecution", `Not children of ${host.name}: ${unknown.join(", ")}`, "BAD_REQUEST");
        if (!input.executeOnChildNodes) throw fieldError("executeOnChildNodes", "limitChildNodeExecution needs executeOnChildNodes.", "BAD_REQUEST");
      }
      const targets = input.executeOnChildNodes
        ? kids.filter((k) => !input.limitChildNodeExecution?.length || input.limitChildNodeExecution.includes(k.id))
        : [host];
      if (input.step === "firmware_update" && (!input.executeOnChildNodes || !input.args.imageUri))
        throw fieldError("args.imageUri", "A firmware update runs on DPU children and needs an image URL.", "BAD_REQUEST");
      if (input.step === "set_boot_device" && !input.args.device) throw fieldError("args.device", "Choose a boot device.", "BAD_REQUEST");
      if (input.step === "firmware_update") await assertImageUrl("args.imageUri", input.args.imageUri!);
      if (input.step === "passthrough" && !input.args.passthrough)
        throw fieldError("args.passthrough", "Give the raw IPMI command or the OEM action.", "BAD_REQUEST");
      const results: BulkResult[] = [];
      for (const n of targets) {
        try {
          if (input.step === "power_on" || input.step === "power_off") {
            const action = input.step === "power_on" ? ("on" as const) : ("off" as const);
            const v = nodeCan.power(facts(n), action);
            if (!v.ok) {
              results.push({ id: n.id, name: n.name, ok: false, message: v.reason });
              continue;
            }
            const operationId = await startNodeOperation(ctx, n, catalog.nodePower, (op) => [n.id, action, op, ctx.principal.email], { action, step: true });
            results.push({ id: n.id, name: n.name, ok: true, message: `Power ${action} requested.`, operationId });
          } else if (input.step === "set_boot_device") {
            const v = nodeCan.setBootDevice(facts(n));
            if (!v.ok) {
              results.push({ id: n.id, name: n.name, ok: false, message: v.reason });
              continue;
            }
            const asked = { persistent: false, uefi: true };
            const outcome = bootOverrideOutcome(input.args.device!, asked, await driverFor(n).setBootDevice(input.args.device!, asked));
            await audit(ctx.db as never, ctx, {
              action: "node.set_boot_device",
              targetType: "node",
              targetId: n.id,
              targetName: n.name,
              details: { device: input.args.device, step: true, applied: { device: outcome.device, persistent: outcome.persistent } },
            });
            results.push({ id: n.id, name: n.name, ok: true, message: `Boot device ${outcome.text}.` });
          } else if (input.step === "passthrough") {
            const p = input.args.passthrough!;
            const d = driverFor(n);
            const v = nodeCan.passthrough(facts(n));
            const refusal = v.ok ? passthroughMismatch(d, p) : v.reason;
            if (refusal) {
              results.push({ id: n.id, name: n.name, ok: false, message: refusal });
              continue;
            }
            // Audited before it is sent: a vendor command the BMC half-ran is still on record.
            await audit(ctx.db as never, ctx, {
              action: "node.passthrough",
              targetType: "node",
              targetId: n.id,
              targetName: n.name,
              details: { ...p, step: true },
            });
            results.push({ id: n.id, name: n.name, ok: true, message: await sendPassthrough(d, p) });
          } else {
            const v = nodeCan.firmwareUpdate(facts(n));
            if (!v.ok) {
              results.push({ id: n.id, name: n.name, ok: false, message: v.reason });
              continue;
            }
            const operationId = await startNodeOperation(
              ctx,
              n,
              catalog.dpuFirmwareUpdate,
              (op) => [n.id, input.args.imageUri!, input.args.targets ?? [], op],
              { imageUri: input.args.imageUri, targets: input.args.targets },
            );
            results.push({ id: n.id, name: n.name, ok: true, message: "Update started.", operationId });
          }
        } catch (e) {
          results.push({ id: n.id, name: n.name, ok: false, message: probeMessage(e, n.bmcAddress) });
        }
      }
      return results;
    }),

  firmwareUpdate: operatorProcedure("operator-admin")
    .input(
      z.object({ id: z.uuid(), imageUri: z.url("Enter the image's URL (http, https)").max(2000), targets: z.array(z.string().max(200)).max(10).default([]) }),
    )
    .mutation(async ({ ctx, input }) => {
      const n = await getNodeOr404(ctx, input.id);
      const v = nodeCan.firmwareUpdate(facts(n));
      if (!v.ok) refuse(v.reason);
      await assertImageUrl("imageUri", input.imageUri);
      const operationId = await startNodeOperation(ctx, n, catalog.dpuFirmwareUpdate, (op) => [n.id, input.imageUri, input.targets, op], {
        imageUri: input.imageUri,
        targets: input.targets,
      });
      return { operationId };
    }),

  /** Boot a host once from an ISO through Redfish VirtualMedia (workflow node.virtual_media_boot). */
  virtualMediaBoot: operatorProcedure("operator-admin")
    .input(
      z
        .object({
          id: z.uuid(),
          imageUrl: isoUrlSchema,
        })
        .strict(),
    )
    .mutation(async ({ ctx, input }) => {
      const n = await getNodeOr404(ctx, input.id);
      const [placed] = await ctx.db.select({ id: instances.id }).from(instances).where(eq(instances.nodeId, n.id)).limit(1);
      const v = nodeCan.virtualMediaBoot({ ...facts(n), hasInstance: !!placed });
      if (!v.ok) refuse(v.reason);
      await assertImageUrl("imageUrl", input.imageUrl);
      const operationId = await startNodeOperation(ctx, n, catalog.nodeVirtualMediaBoot, (op) => [n.id, input.imageUrl, op], { imageUrl: input.imageUrl });
      return { operationId };
    }),

  /** Check a BMC before enrolling (the form's "Test connection"). Nothing is stored. */
  probe: operatorProcedure("operator-admin")
    .input(
      z.object({
        driver: z.enum(["redfish", "ipmi"]),
        address: z.string().trim().min(1).max(300),
        username: z.string().min(1).max(128),
        password: z.string().min(1).max(256),
        verifyTls: z.boolean().default(true),
      }),
    )
    .mutation(async ({ input }) => {
      const { normaliseBmcAddress } = await import("@/db/validation/nodes");
      const a = normaliseBmcAddress(input.driver, input.address);
      if (!a.ok) throw fieldError("address", a.message, "BAD_REQUEST");
      // Off the management network: refused as input, nothing contacted (no port scanning through "Test connection").
      const where = await checkMgmtTarget(a.value);
      if (!where.ok && !where.unresolved) throw fieldError("address", where.message, "BAD_REQUEST");
      let d: ReturnType<typeof createBmcDriver> | undefined;
      try {
        d = createBmcDriver({
          driver: input.driver,
          address: a.value,
          credentials: { username: input.username, password: input.password },
          verifyTls: input.verifyTls,
          timeoutMs: 8000,
          retries: 1,
        });
        const power = await d.getPowerState();
        const inv = await d.getInventory();
        return { ok: true as const, power, systemType: inv.systemType, model: inv.model, manufacturer: inv.manufacturer };
      } catch (e) {
        return { ok: false as const, message: probeMessage(e, a.value) };
      } finally {
        await d?.close().catch(() => {});
      }
    }),

  /** Counts by state and health per pool, and the nodes with faults (the Overview page). */
  overview: operatorProcedure("operator-viewer").query(async ({ ctx }) => {
    const byPool = await ctx.db
      .select({
        poolId: nodes.poolId,
        poolName: pools.name,
        provisionState: nodes.provisionState,
        health: nodes.health,
        n: count(),
      })
      .from(nodes)
      .leftJoin(pools, eq(pools.id, nodes.poolId))
      .where(eq(nodes.kind, "host"))
      .groupBy(nodes.poolId, pools.name, nodes.provisionState, nodes.health);
    const faults = await ctx.db
      .select({
        ...columnsOf(nodes, "id", "name", "kind", "fault"),
        parentName: parent.name,
        maintenance: nodes.maintenance,
        updatedAt: nodes.updatedAt,
      })
      .from(nodes)
      .leftJoin(parent, eq(parent.id, nodes.parentNodeId))
      .where(isNotNull(nodes.fault))
      .orderBy(desc(nodes.updatedAt))
      .limit(50);
    const [totals] = (
      await ctx.db.execute<{ hosts: number; dpus: number; faults: number; maintenance: number; on: number }>(sql`
      select count(*) filter (where kind = 'host')::int as hosts, count(*) filter (where kind = 'dpu')::int as dpus,
             count(*) filter (where fault is not null)::int as faults, count(*) filter (where maintenance)::int as maintenance,
             count(*) filter (where power_state = 'on' and kind = 'host')::int as "on" from nodes`)
    ).rows;
    return { byPool, faults, totals: totals ?? { hosts: 0, dpus: 0, faults: 0, maintenance: 0, on: 0 } };
  }),
});
