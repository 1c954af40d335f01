// An instance's NICs: every NIC is a port with ports.instance_id = the instance and its ports.nic_index (0 is the
// primary, instances.port_id). Shared by the instance routers (create with several NICs, add / remove / move one) and
// the NIC workflows (server/workflows/instance-nics.ts): reading the list in NIC order, validating a NIC's subnet and
// security groups for the tenant, and creating a NIC's port with its address in the caller's transaction (fixed or
// the subnet's next free one, counted against the tenant's address quota; on a dual-stack subnet an IPv6 one too).
import { and, asc, eq, inArray, isNotNull, sql } from "drizzle-orm";
import type { Db, Tx } from "@/db/client";
import { ipAllocations, portSecurityGroups, ports, securityGroups, subnets, vpcs } from "@/db/schema";
import { DomainError, invalid, isDomainError } from "@/domain/errors";
import { allocateAddress, ensurePortIpv6 } from "./ipam";
import { randomMac, tenantSubnet } from "./network";
import { enforceQuota, rowsOf } from "./quotas";
import { bumpGroupPeers } from "@/server/domain/rule-compiler";

/** At most this many NICs per instance (the ports_nic_index check allows indexes 0..15). */
export const MAX_NICS = 8;

/** One NIC as the instance page, the cloud-init seed and the workflows read it. */
export interface InstanceNic {
  portId: string;
  index: number;
  mac: string;
  address: string | null;
  /** The NIC's IPv6 address on a dual-stack subnet, with the subnet's IPv6 /64 and gateway (all null otherwise). */
  ipv6Address: string | null;
  subnetIpv6Cidr: string | null;
  ipv6Gateway: string | null;
  subnetId: string;
  subnetName: string;
  subnetCidr: string;
  gateway: string;
  dns: string[];
  vlanId: number | null;
  vni: number;
  vpcId: string;
  vpcName: string;
  groups: { id: string; name: string }[];
  /** Where the NIC exists on the DPU right now (set once its agent created it). */
  bound: boolean;
}

/** The instance's NICs in NIC order (primary first). */
export async function instanceNics(db: Db | Tx, instanceId: string): Promise<InstanceNic[]> {
  const rows = await db
    .select({
      portId: ports.id,
      index: ports.nicIndex,
      mac: sql<string>`${ports.mac}::text`,
      address: sql<string | null>`host(${ipAllocations.address})`,
      ipv6Address: sql<string | null>`(select host(a6.address) from ip_allocations a6 where a6.port_id = ${ports.id} and family(a6.address) = 6)`,
      subnetIpv6Cidr: sql<string | null>`${subnets.ipv6Cidr}::text`,
      ipv6Gateway: sql<string | null>`host(${subnets.ipv6Gateway})`,
      subnetId: subnets.id,
      subnetName: subnets.name,
      subnetCidr: sql<string>`${subnets.cidr}::text`,
      gateway: sql<string>`host(${subnets.gateway})`,
      dns: subnets.dnsServers,
      vlanId: subnets.vlanId,
      vni: vpcs.vni,
      vpcId: vpcs.id,
      vpcName: vpcs.name,
      nodeId: ports.nodeId,
    })
    .from(ports)
    .innerJoin(subnets, eq(subnets.id, ports.subnetId))
    .innerJoin(vpcs, eq(vpcs.id, subnets.vpcId))
    .leftJoin(ipAllocations, and(eq(ipAllocations.portId, ports.id), sql`family(${ipAllocations.address}) = 4`))
    .where(and(eq(ports.instanceId, instanceId), isNotNull(ports.nicIndex)))
    .orderBy(asc(ports.nicIndex));
  if (!rows.length) return [];
  const groups = await db
    .select({ portId: portSecurityGroups.portId, id: securityGroups.id, name: securityGroups.name })
    .from(portSecurityGroups)
    .innerJoin(securityGroups, eq(securityGroups.id, portSecurityGroups.groupId))
    .where(
      inArray(
        portSecurityGroups.portId,
        rows.map((r) => r.portId),
      ),
    )
    .orderBy(securityGroups.name);
  return rows.map(({ nodeId, index, ...r }) => ({
    ...r,
    index: index!,
    bound: nodeId !== null,
    groups: groups.filter((g) => g.portId === r.portId).map(({ id, name }) => ({ id, name })),
  }));
}

/** The agent's name for an instance's NIC (the primary keeps the name it always had). */
export const nicAgentName = (instanceId: string, index: number) => `i-${instanceId}-nic${index}`;

/** A NIC's subnet (the tenant's, any of its VPCs) and its security groups (the tenant's, of that subnet's VPC; none
 *  given → the VPC's default group). Field errors name `field` (and `field`'s groups). */
export async function resolveNic(
  db: Db | Tx,
  tenantId: string,
  nic: { subnetId: string; securityGroupIds?: string[] },
  field: { subnet: string; groups: string },
) {
  const subnet = await tenantSubnet(db, tenantId, nic.subnetId).catch(() => {
    throw invalid("No such subnet in this tenant.", field.subnet);
  });
  let groupIds = [...new Set(nic.securityGroupIds ?? [])];
  if (groupIds.length) {
    const found = await db
      .select({ id: securityGroups.id, vpcId: securityGroups.vpcId, name: securityGroups.name })
      .from(securityGroups)
      .where(and(inArray(securityGroups.id, groupIds), eq(securityGroups.tenantId, tenantId)));
    for (const id of groupIds) {
      const g = found.find((f) => f.id === id);
      if (!g) throw invalid("No such security group.", field.groups);
      if (g.vpcId !== subnet.vpcId) throw invalid(`Security group ${g.name} belongs to another VPC than subnet ${subnet.name}.`, field.groups);
    }
  } else groupIds = await defaultGroupOf(db, subnet.vpcId);
  return { subnet, groupIds };
}

/** The VPC's default security group, as a list (empty when the VPC has none). */
export async function defaultGroupOf(db: Db | Tx, vpcId: string): Promise<string[]> {
  const [def] = await db
    .select({ id: securityGroups.id })
    .from(securityGroups)
    .where(and(eq(securityGroups.vpcId, vpcId), eq(securityGroups.isDefault, true)));
  return def ? [def.id] : [];
}

type SubnetRow = typeof subnets.$inferSelect;

/**
 * Creates NIC `index` of an instance in the caller's transaction: the port (fresh MAC, its groups) and its address —
 * `address` exactly (a field error on `addressField` when it is outside the subnet, reserved or taken) or the lowest
 * free one. The tenant's address quota is checked after the insert.
 */
export async function createNicPort(
  tx: Tx,
  o: {
    tenantId: string;
    instanceId: string;
    instanceName: string;
    index: number;
    subnet: SubnetRow;
    groupIds: string[];
    address?: string | null;
    addressField: string;
  },
): Promise<{ portId: string; mac: string; address: string; ipv6Address: string | null }> {
  const mac = randomMac();
  const [p] = await tx
    .insert(ports)
    .values({
      tenantId: o.tenantId,
      subnetId: o.subnet.id,
      name: `${o.instanceName}-eth${o.index}-${o.instanceId.slice(0, 8)}`,
      description: o.index === 0 ? `Primary NIC of instance ${o.instanceName}` : `NIC ${o.index} of instance ${o.instanceName}`,
      mac,
      instanceId: o.instanceId,
      nicIndex: o.index,
    })
    .returning({ id: ports.id });
  if (o.groupIds.length) await tx.insert(portSecurityGroups).values(o.groupIds.map((groupId) => ({ portId: p!.id, groupId })));
  const a = await allocateAddress(tx, o.subnet, { tenantId: o.tenantId, portId: p!.id, address: o.address }).catch((e) => {
    // IPAM names its field "address"; the caller's form calls it something else.
    throw isDomainError(e) && e.field === "address" ? new DomainError(e.kind, e.message, o.addressField) : e;
  });
  const ipv6Address = await ensurePortIpv6(tx, o.subnet, { tenantId: o.tenantId, portId: p!.id });
  await enforceQuota(tx, o.tenantId, [{ resource: "addresses", add: 0, used: rowsOf(ipAllocations, o.tenantId) }]);
  // Ports whose rules name its groups let its addresses in (the reconciler's sweep pushes them).
  await bumpGroupPeers(tx, [p!.id]);
  return { portId: p!.id, mac, address: a.address, ipv6Address };
}

/** The next NIC index of an instance: one past the highest ever used by a port it still has (never reused while held). */
export async function nextNicIndex(tx: Tx, instanceId: string): Promise<number> {
  const [r] = await tx
    .select({ n: sql<number | null>`max(${ports.nicIndex})` })
    .from(ports)
    .where(eq(ports.instanceId, instanceId));
  return r?.n === null || r?.n === undefined ? 0 : r.n + 1;
}
