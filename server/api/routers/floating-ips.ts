// Tenant floating IPs: public addresses allocated from an operator's provider network (provider_addresses, kind
// 'floating'), attached 1:1 to the IPv4 address of one of the tenant's instance ports. The DPU hosting that port NATs
// the address (OverlaySpec.router.external.floatingIps, server/workflows/overlay.ts); attaching, detaching, moving or
// releasing changes the overlay of the DPUs concerned, and an overlay pass is enqueued after commit (the sweep catches
// up without an engine in this process). A VPC's router has one provider side, so all floating IPs attached in a VPC
// come from one provider network — its external gateway when it has one.
// Roles: tenant members allocate, attach, detach, move and release. Every query filters by ctx.tenant.id.
import { TRPCError } from "@trpc/server";
import { and, asc, eq, isNotNull, ne, sql } from "drizzle-orm";
import { z } from "zod";
import type { Db, Tx } from "@/db/client";
import type { Context } from "../trpc";
import { instances, ipAllocations, ports, providerAddresses, providerNetworks, subnets, vpcs } from "@/db/schema";
import { cidrsOverlap, parseCidr } from "@/domain/cidr";
import { floatingIpAllocateSchema, floatingIpAttachSchema } from "@/db/validation/network";
import { matchesText } from "@/server/lib/like";
import { audit } from "@/server/services/audit";
import { PORT_NOT_FOUND } from "@/server/services/network";
import { allocateProviderAddress, providerNetworkBlocker, providerRange } from "@/server/services/provider-addresses";
import { applyOverlaySoon } from "@/server/services/overlay-apply";
import { found } from "@/server/services/rows";
import { fieldError } from "../errors";
import { listPage, pageInput } from "../pagination";
import { createTRPCRouter, tenantInput, tenantProcedure } from "../trpc";
import { transact } from "../transact";

export const FLOATING_IP_NOT_FOUND = "That floating IP does not exist (it may have been released).";
const NETWORK_NOT_FOUND = "That provider network does not exist (it may have been deleted).";

const address = sql<string>`host(${providerAddresses.address})`;
const fixedIp = sql<string | null>`(select host(a.address) from ip_allocations a where a.port_id = ${providerAddresses.portId} and family(a.address) = 4)`;
/**
 * Where the attachment stands on the fixed port's DPU (the overlay reconciler's row for the VNI, server/workflows/
 * overlay.ts): "applied" once the agent accepted an overlay computed after the last change, "failed" with the error
 * while a push fails, "pending" in between; null when not attached or the port is on no DPU.
 */
const dpuState = sql<{ state: "applied" | "pending" | "failed"; error: string | null; dpuName: string } | null>`(
  select json_build_object(
           'state', case when o.error is not null then 'failed'
                         when o.applied_at >= ${providerAddresses.updatedAt} and o.applied_hash = o.desired_hash then 'applied'
                         else 'pending' end,
           'error', o.error, 'dpuName', d.name)
    from ports p
    join subnets s on s.id = p.subnet_id
    join vpcs v on v.id = s.vpc_id
    join nodes d on d.parent_node_id = p.node_id and d.kind = 'dpu'
    left join dpu_overlays o on o.dpu_id = d.id and o.vni = v.vni
   where p.id = ${providerAddresses.portId}
   limit 1)`;
const columns = {
  id: providerAddresses.id,
  address,
  providerNetworkId: providerAddresses.providerNetworkId,
  providerNetworkName: providerNetworks.name,
  portId: providerAddresses.portId,
  portName: ports.name,
  fixedIp,
  instanceId: instances.id,
  instanceName: instances.name,
  onDpu: dpuState,
  createdAt: providerAddresses.createdAt,
};

function listQuery(db: Db | Tx) {
  return db
    .select(columns)
    .from(providerAddresses)
    .innerJoin(providerNetworks, eq(providerNetworks.id, providerAddresses.providerNetworkId))
    .leftJoin(ports, eq(ports.id, providerAddresses.portId))
    .leftJoin(instances, eq(instances.id, ports.instanceId));
}

const mine = (tenantId: string, id: string) =>
  and(eq(providerAddresses.id, id), eq(providerAddresses.tenantId, tenantId), eq(providerAddresses.kind, "floating"));

/** The tenant's floating IP, locked for the change. */
async function lockFloating(tx: Tx, tenantId: string, id: string) {
  return found(await tx.select().from(providerAddresses).where(mine(tenantId, id)).for("update"), FLOATING_IP_NOT_FOUND);
}

/**
 * The port a floating IP may be attached to: the tenant's, a NIC of one of its instances, with an IPv4 address on an
 * overlay subnet, in a VPC whose router may use this provider network. Locks the VPC so two attaches in one VPC (or an
 * attach and a gateway change) cannot pick two provider networks for its one router.
 */
async function targetPort(tx: Tx, tenantId: string, portId: string, networkId: string, self: string) {
  const [p] = await tx
    .select({
      id: ports.id,
      name: ports.name,
      instanceId: ports.instanceId,
      instanceName: instances.name,
      vpcId: subnets.vpcId,
      vlanId: subnets.vlanId,
      fixedIp: sql<string | null>`(select host(a.address) from ip_allocations a where a.port_id = ${ports.id} and family(a.address) = 4)`,
    })
    .from(ports)
    .innerJoin(subnets, eq(subnets.id, ports.subnetId))
    .leftJoin(instances, eq(instances.id, ports.instanceId))
    .where(and(eq(ports.id, portId), eq(ports.tenantId, tenantId)));
  // Another tenant's port does not exist for this caller.
  if (!p) throw fieldError("portId", PORT_NOT_FOUND, "NOT_FOUND");
  if (!p.instanceId) throw fieldError("portId", `Port ${p.name} is not a NIC of an instance; attach floating IPs to an instance's NIC.`, "PRECONDITION_FAILED");
  if (p.vlanId !== null)
    throw fieldError("portId", `Port ${p.name} is on a VLAN subnet; floating IPs reach ports of overlay (VXLAN) subnets only.`, "PRECONDITION_FAILED");
  if (!p.fixedIp) throw fieldError("portId", `Port ${p.name} has no IPv4 address to NAT to.`, "PRECONDITION_FAILED");
  const [vpc] = await tx.select().from(vpcs).where(eq(vpcs.id, p.vpcId)).for("update");
  const [pn] = await tx.select().from(providerNetworks).where(eq(providerNetworks.id, networkId));
  if (vpc!.externalNetworkId && vpc!.externalNetworkId !== networkId) {
    const [gw] = await tx.select({ name: providerNetworks.name }).from(providerNetworks).where(eq(providerNetworks.id, vpc!.externalNetworkId));
    throw fieldError(
      "portId",
      `VPC ${vpc!.name} reaches the outside through provider network ${gw?.name}; a floating IP of ${pn!.name} cannot be attached to its ports.`,
      "PRECONDITION_FAILED",
    );
  }
  const [other] = await tx
    .select({ address, network: providerNetworks.name })
    .from(providerAddresses)
    .innerJoin(providerNetworks, eq(providerNetworks.id, providerAddresses.providerNetworkId))
    .innerJoin(ports, eq(ports.id, providerAddresses.portId))
    .innerJoin(subnets, eq(subnets.id, ports.subnetId))
    .where(and(eq(subnets.vpcId, vpc!.id), ne(providerAddresses.providerNetworkId, networkId), ne(providerAddresses.id, self)))
    .limit(1);
  if (other)
    throw fieldError(
      "portId",
      `VPC ${vpc!.name} already has floating IP ${other.address} of provider network ${other.network}; a VPC's floating IPs all come from one provider network.`,
      "PRECONDITION_FAILED",
    );
  const vc = parseCidr(vpc!.cidr);
  const pc = parseCidr(pn!.cidr);
  if (vc.ok && pc.ok && cidrsOverlap(vc.cidr, pc.cidr))
    throw fieldError("portId", `VPC ${vpc!.name} (${vpc!.cidr}) overlaps provider network ${pn!.name} (${pn!.cidr}).`, "PRECONDITION_FAILED");
  return p;
}

const uniques = {
  provider_addresses_port_uq: { field: "portId", message: "That port already has a floating IP; detach it first or move that one." },
};

type AttachInput = { tenant: string; id: string; portId: string };

/** attach (from unattached) and move (from attached): one transaction, so a move is one step for the DPUs. */
async function setPort(ctx: Context & { db: Db; tenant: { id: string } }, input: AttachInput, verb: "attach" | "move") {
  const tenantId = ctx.tenant.id;
  const done = await transact(
    ctx.db,
    async (tx) => {
      const fip = await lockFloating(tx, tenantId, input.id);
      const addr = fip.address.replace(/\/\d+$/, "");
      if (verb === "attach" && fip.portId)
        throw new TRPCError({ code: "CONFLICT", message: `Floating IP ${addr} is already attached; detach it first, or move it.` });
      if (verb === "move" && !fip.portId)
        throw new TRPCError({ code: "PRECONDITION_FAILED", message: `Floating IP ${addr} is not attached; attach it instead.` });
      if (verb === "move" && fip.portId === input.portId) throw fieldError("portId", `Floating IP ${addr} is already attached to that port.`, "BAD_REQUEST");
      const port = await targetPort(tx, tenantId, input.portId, fip.providerNetworkId, fip.id);
      const [taken] = await tx
        .select({ address })
        .from(providerAddresses)
        .where(and(eq(providerAddresses.portId, port.id), ne(providerAddresses.id, fip.id)));
      if (taken) throw fieldError("portId", `Port ${port.name} already has floating IP ${taken.address}; detach it first or move that one.`);
      await tx.update(providerAddresses).set({ portId: port.id, updatedAt: new Date() }).where(eq(providerAddresses.id, fip.id));
      await audit(tx, ctx, {
        action: `floating_ip.${verb}`,
        targetType: "floating_ip",
        targetId: fip.id,
        targetName: addr,
        tenantId,
        details: { fromPortId: fip.portId, portId: port.id, fixedIp: port.fixedIp, instanceId: port.instanceId },
      });
      return { id: fip.id, address: addr, portId: port.id, fixedIp: port.fixedIp, instanceName: port.instanceName };
    },
    uniques,
  );
  await applyOverlaySoon();
  return done;
}

export const floatingIpsRouter = createTRPCRouter({
  list: tenantProcedure("tenant-member")
    .input(pageInput.extend({ q: z.string().trim().max(100).optional(), portId: z.uuid().optional(), instanceId: z.uuid().optional() }))
    .query(async ({ ctx, input }) => {
      return listPage(
        listQuery(ctx.db),
        input,
        { sort: { createdAt: providerAddresses.createdAt }, id: providerAddresses.id },
        eq(providerAddresses.tenantId, ctx.tenant.id),
        eq(providerAddresses.kind, "floating"),
        input.portId ? eq(providerAddresses.portId, input.portId) : undefined,
        input.instanceId ? eq(ports.instanceId, input.instanceId) : undefined,
        matchesText(input.q, sql`host(${providerAddresses.address})`, providerNetworks.name, instances.name),
      );
    }),

  get: tenantProcedure("tenant-member")
    .input(z.object({ id: z.uuid() }))
    .query(async ({ ctx, input }) => found(await listQuery(ctx.db).where(mine(ctx.tenant.id, input.id)), FLOATING_IP_NOT_FOUND)),

  /** Provider networks a tenant can allocate from (those with a gateway set), with how many addresses are free. */
  networks: tenantProcedure("tenant-member").query(async ({ ctx }) => {
    const rows = await ctx.db.select().from(providerNetworks).where(isNotNull(providerNetworks.gateway)).orderBy(asc(providerNetworks.name));
    const used = await ctx.db
      .select({ id: providerAddresses.providerNetworkId, n: sql<number>`count(*)::int` })
      .from(providerAddresses)
      .groupBy(providerAddresses.providerNetworkId);
    return rows.map((r) => {
      const total = providerRange(r).total;
      return { id: r.id, name: r.name, cidr: r.cidr, free: Math.max(0, total - (used.find((u) => u.id === r.id)?.n ?? 0)) };
    });
  }),

  /** The tenant's instance NICs a floating IP can go to (IPv4 on an overlay subnet), with the one each has. */
  attachablePorts: tenantProcedure("tenant-member").query(async ({ ctx }) => {
    return ctx.db
      .select({
        portId: ports.id,
        portName: ports.name,
        nicIndex: ports.nicIndex,
        instanceId: instances.id,
        instanceName: instances.name,
        fixedIp: sql<string>`host(${ipAllocations.address})`,
        floatingIp: sql<string | null>`(select host(f.address) from provider_addresses f where f.port_id = ${ports.id})`,
      })
      .from(ports)
      .innerJoin(instances, eq(instances.id, ports.instanceId))
      .innerJoin(subnets, eq(subnets.id, ports.subnetId))
      .innerJoin(ipAllocations, and(eq(ipAllocations.portId, ports.id), sql`family(${ipAllocations.address}) = 4`))
      .where(and(eq(ports.tenantId, ctx.tenant.id), sql`${subnets.vlanId} is null`))
      .orderBy(asc(instances.name), asc(ports.nicIndex))
      .limit(500);
  }),

  allocate: tenantProcedure("tenant-member", { write: true })
    .input(floatingIpAllocateSchema.extend(tenantInput.shape))
    .mutation(async ({ ctx, input }) => {
      const tenantId = ctx.tenant.id;
      return transact(ctx.db, async (tx) => {
        const [pn] = await tx.select().from(providerNetworks).where(eq(providerNetworks.id, input.providerNetworkId));
        if (!pn) throw fieldError("providerNetworkId", NETWORK_NOT_FOUND, "NOT_FOUND");
        const blocked = providerNetworkBlocker(pn);
        if (blocked) throw fieldError("providerNetworkId", blocked, "PRECONDITION_FAILED");
        const got = await allocateProviderAddress(tx, pn, { tenantId, kind: "floating" });
        await audit(tx, ctx, {
          action: "floating_ip.allocate",
          targetType: "floating_ip",
          targetId: got.id,
          targetName: got.address,
          tenantId,
          details: { providerNetworkId: pn.id, providerNetwork: pn.name },
        });
        return { id: got.id, address: got.address, providerNetworkId: pn.id, providerNetworkName: pn.name };
      });
    }),

  attach: tenantProcedure("tenant-member", { write: true })
    .input(floatingIpAttachSchema.extend(tenantInput.shape))
    .mutation(({ ctx, input }) => setPort(ctx, input, "attach")),

  /** Moves an attached floating IP to another port in one step (no moment where both or neither have it). */
  move: tenantProcedure("tenant-member", { write: true })
    .input(floatingIpAttachSchema.extend(tenantInput.shape))
    .mutation(({ ctx, input }) => setPort(ctx, input, "move")),

  detach: tenantProcedure("tenant-member", { write: true })
    .input(z.object({ id: z.uuid() }).extend(tenantInput.shape).strict())
    .mutation(async ({ ctx, input }) => {
      const tenantId = ctx.tenant.id;
      const done = await transact(ctx.db, async (tx) => {
        const fip = await lockFloating(tx, tenantId, input.id);
        const addr = fip.address.replace(/\/\d+$/, "");
        if (!fip.portId) throw new TRPCError({ code: "PRECONDITION_FAILED", message: `Floating IP ${addr} is not attached.` });
        await tx.update(providerAddresses).set({ portId: null, updatedAt: new Date() }).where(eq(providerAddresses.id, fip.id));
        await audit(tx, ctx, {
          action: "floating_ip.detach",
          targetType: "floating_ip",
          targetId: fip.id,
          targetName: addr,
          tenantId,
          details: { portId: fip.portId },
        });
        return { id: fip.id, address: addr };
      });
      await applyOverlaySoon();
      return done;
    }),

  /** Gives the address back to the provider network (detaching it first when attached). */
  release: tenantProcedure("tenant-member", { write: true })
    .input(z.object({ id: z.uuid() }).extend(tenantInput.shape).strict())
    .mutation(async ({ ctx, input }) => {
      const tenantId = ctx.tenant.id;
      const done = await transact(ctx.db, async (tx) => {
        const fip = await lockFloating(tx, tenantId, input.id);
        const addr = fip.address.replace(/\/\d+$/, "");
        await tx.delete(providerAddresses).where(eq(providerAddresses.id, fip.id));
        await audit(tx, ctx, {
          action: "floating_ip.release",
          targetType: "floating_ip",
          targetId: fip.id,
          targetName: addr,
          tenantId,
          details: { providerNetworkId: fip.providerNetworkId, portId: fip.portId },
        });
        return { id: fip.id, address: addr, wasAttached: !!fip.portId };
      });
      if (done.wasAttached) await applyOverlaySoon();
      return done;
    }),
});
