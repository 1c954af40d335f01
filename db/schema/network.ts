// Tenant networking: VPCs, subnets, IP allocations, ports (vNICs), security groups and rules, and the operator's
// provider networks. Exclusivity lives in the database so concurrent requests cannot double-allocate:
//  - one VNI per VPC (vpcs_vni_uq), one address per subnet (ip_allocations_subnet_address_uq), one MAC per port;
//  - one provider address per (provider network, address), floating IPs and SNAT addresses alike, one floating IP per
//    port, one SNAT address per (VPC, DPU) (provider_addresses);
//  - sibling subnets never overlap: an exclusion constraint (vpc_id =, cidr &&) with a gist index, added by the
//    custom migration db/migrations/*_network-exclusion.sql because drizzle cannot express EXCLUDE; their IPv6 ranges
//    neither (subnets_ipv6_no_overlap, db/migrations/*_subnet-ipv6-exclusion.sql);
//  - a port holds at most one address per family (ip_allocations_port_family_uq): a dual-stack port has two.
import { sql } from "drizzle-orm";
import {
  boolean,
  check,
  cidr,
  index,
  inet,
  integer,
  jsonb,
  macaddr,
  type AnyPgColumn,
  pgEnum,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from "drizzle-orm/pg-core";
import { createdAt, updatedAt, uuidPk, nameAndDescription, timestamps } from "./columns";
import { instances } from "./compute";
import { nodes } from "./hardware";
import { tenantRef, tenants } from "./tenancy";

/** VNIs handed to tenant VPCs (24-bit VXLAN ids; the low range is left for provider/infrastructure use). */
export const VNI_MIN = 10000;
export const VNI_MAX = 16777215;

/** Per-tenant network policy set by operators (e.g. a tenant allowed to use public address ranges in its VPCs). */
export const tenantNetworkPolicies = pgTable("tenant_network_policies", {
  tenantId: uuid("tenant_id")
    .primaryKey()
    .references(() => tenants.id, { onDelete: "cascade" }),
  allowPublicCidrs: boolean("allow_public_cidrs").notNull().default(false),
  updatedAt: updatedAt(),
});

export const vpcs = pgTable(
  "vpcs",
  {
    id: uuidPk(),
    tenantId: tenantRef(),
    ...nameAndDescription(),
    cidr: cidr("cidr").notNull(),
    ipv6Cidr: cidr("ipv6_cidr"),
    vni: integer("vni").notNull(),
    // The provider network the VPC's router reaches the outside through (SNAT for its ports; null = none).
    externalNetworkId: uuid("external_network_id").references((): AnyPgColumn => providerNetworks.id),
    ...timestamps(),
  },
  (t) => [
    uniqueIndex("vpcs_vni_uq").on(t.vni),
    uniqueIndex("vpcs_tenant_name_uq").on(t.tenantId, sql`lower(${t.name})`),
    index("vpcs_tenant_created_idx").on(t.tenantId, t.createdAt, t.id),
    check("vpcs_vni_range", sql`${t.vni} between ${sql.raw(String(VNI_MIN))} and ${sql.raw(String(VNI_MAX))}`),
    check("vpcs_cidr_v4", sql`family(${t.cidr}) = 4`),
    check("vpcs_ipv6_cidr_v6", sql`${t.ipv6Cidr} is null or family(${t.ipv6Cidr}) = 6`),
  ],
);

/** A reserved range inside a subnet: addresses IPAM never hands out (inclusive). */
export interface ReservedRange {
  start: string;
  end: string;
}

export const subnets = pgTable(
  "subnets",
  {
    id: uuidPk(),
    tenantId: tenantRef(),
    vpcId: uuid("vpc_id")
      .notNull()
      .references(() => vpcs.id),
    ...nameAndDescription(),
    cidr: cidr("cidr").notNull(),
    gateway: inet("gateway").notNull(),
    // Dual stack: an IPv6 /64 inside the VPC's ipv6_cidr and its gateway (default ::1 of the /64); both or neither.
    // Ports of the subnet hold an IPv6 address too (ip_allocations, family 6); reserved ranges are IPv4 only.
    ipv6Cidr: cidr("ipv6_cidr"),
    ipv6Gateway: inet("ipv6_gateway"),
    reservedRanges: jsonb("reserved_ranges").$type<ReservedRange[]>().notNull().default([]),
    dnsServers: jsonb("dns_servers").$type<string[]>().notNull().default([]),
    // The segment on the wire: an 802.1Q VLAN on the DPU's uplink when set, otherwise the VPC's VNI (VXLAN overlay).
    vlanId: integer("vlan_id"),
    ...timestamps(),
  },
  (t) => [
    uniqueIndex("subnets_vpc_name_uq").on(t.vpcId, sql`lower(${t.name})`),
    uniqueIndex("subnets_vpc_vlan_uq").on(t.vpcId, t.vlanId),
    index("subnets_tenant_created_idx").on(t.tenantId, t.createdAt, t.id),
    index("subnets_vpc_idx").on(t.vpcId, t.createdAt, t.id),
    check("subnets_vlan_range", sql`${t.vlanId} is null or ${t.vlanId} between 1 and 4094`),
    check("subnets_gateway_inside", sql`${t.gateway} << ${t.cidr}`),
    check("subnets_ipv6_both", sql`(${t.ipv6Cidr} is null) = (${t.ipv6Gateway} is null)`),
    check("subnets_ipv6_cidr_64", sql`${t.ipv6Cidr} is null or (family(${t.ipv6Cidr}) = 6 and masklen(${t.ipv6Cidr}) = 64)`),
    check(
      "subnets_ipv6_gateway_inside",
      sql`${t.ipv6Gateway} is null or (${t.ipv6Gateway} << ${t.ipv6Cidr} and host(${t.ipv6Gateway}) <> host(${t.ipv6Cidr}))`,
    ),
  ],
);

/** Ports (vNICs): what a server's virtio-net function is plugged into. Node/DPU function are set by provisioning. */
export const ports = pgTable(
  "ports",
  {
    id: uuidPk(),
    tenantId: tenantRef(),
    subnetId: uuid("subnet_id")
      .notNull()
      .references(() => subnets.id),
    ...nameAndDescription(),
    mac: macaddr("mac").notNull(),
    nodeId: uuid("node_id").references(() => nodes.id, { onDelete: "set null" }),
    dpuFunction: text("dpu_function"),
    // The instance this port is a NIC of, and its place among the instance's NICs: 0 is the primary (instances.port_id,
    // the agent's i-<instance>-nic0), others were asked for at create or hot-plugged later (agent name
    // i-<instance>-nic<index>). An index is never reused while the instance lives, so an agent NIC name stays stable.
    instanceId: uuid("instance_id").references((): AnyPgColumn => instances.id, { onDelete: "set null" }),
    nicIndex: integer("nic_index"),
    // The desired rules version: bumped, in the transaction of the change, whenever the port's compiled rule set may
    // have changed (group attach/detach, a rule of one of its groups, a member of a remote group).
    rulesVersion: integer("rules_version").notNull().default(1),
    // What the port's DPU agent has: the desired version that was compiled and accepted, when, and the agent's hash of
    // the rule set it holds (GET /v1/nics/:name rulesHash). The rules reconciler (server/workflows/rules.ts) converges
    // applied to desired; 0 means "push again" (never pushed, or the agent lost them).
    appliedRulesVersion: integer("applied_rules_version").notNull().default(0),
    rulesAppliedAt: timestamp("rules_applied_at", { withTimezone: true }),
    rulesAppliedHash: text("rules_applied_hash"),
    // The last push that failed: why, the DPU it was for (named in the UI), and when to try again (backoff).
    rulesError: text("rules_error"),
    rulesErrorDpuId: uuid("rules_error_dpu_id").references(() => nodes.id, { onDelete: "set null" }),
    rulesAttempts: integer("rules_attempts").notNull().default(0),
    rulesRetryAt: timestamp("rules_retry_at", { withTimezone: true }),
    ...timestamps(),
  },
  (t) => [
    // The reconciler's work list: bound ports whose DPU is behind.
    index("ports_rules_pending_idx").on(t.nodeId).where(sql`${t.appliedRulesVersion} < ${t.rulesVersion} and ${t.nodeId} is not null`),
    uniqueIndex("ports_mac_uq").on(t.mac),
    uniqueIndex("ports_instance_nic_uq").on(t.instanceId, t.nicIndex).where(sql`${t.instanceId} is not null`),
    check("ports_nic_index", sql`(${t.instanceId} is null) = (${t.nicIndex} is null) and (${t.nicIndex} is null or ${t.nicIndex} between 0 and 15)`),
    uniqueIndex("ports_tenant_name_uq").on(t.tenantId, sql`lower(${t.name})`),
    index("ports_tenant_created_idx").on(t.tenantId, t.createdAt, t.id),
    index("ports_subnet_idx").on(t.subnetId),
  ],
);

/**
 * The VXLAN overlay per DPU and VNI (server/workflows/overlay.ts): what the BFF wants the DPU to hold for the VNI (the
 * hash of its remote VTEPs + ARP table, computed each pass from the ports) and what the agent last accepted (the
 * agent's hash of what it holds, GET /v1/overlay/vxlan). A row whose DPU no longer has a port in the VNI is removed
 * from the agent, then deleted. The last failure, its count and the retry time drive the backoff.
 */
export const dpuOverlays = pgTable(
  "dpu_overlays",
  {
    dpuId: uuid("dpu_id")
      .notNull()
      .references(() => nodes.id, { onDelete: "cascade" }),
    vni: integer("vni").notNull(),
    desiredHash: text("desired_hash"),
    appliedHash: text("applied_hash"),
    appliedAt: timestamp("applied_at", { withTimezone: true }),
    remoteCount: integer("remote_count").notNull().default(0),
    error: text("error"),
    attempts: integer("attempts").notNull().default(0),
    retryAt: timestamp("retry_at", { withTimezone: true }),
  },
  (t) => [primaryKey({ columns: [t.dpuId, t.vni] }), index("dpu_overlays_vni_idx").on(t.vni)],
);

/** IPAM: one row per handed-out address. UNIQUE (subnet, address) is what makes concurrent allocation safe. */
export const ipAllocations = pgTable(
  "ip_allocations",
  {
    id: uuidPk(),
    tenantId: tenantRef(),
    subnetId: uuid("subnet_id")
      .notNull()
      .references(() => subnets.id),
    address: inet("address").notNull(),
    portId: uuid("port_id").references(() => ports.id, { onDelete: "cascade" }),
    createdAt: createdAt(),
  },
  (t) => [
    uniqueIndex("ip_allocations_subnet_address_uq").on(t.subnetId, t.address),
    uniqueIndex("ip_allocations_port_family_uq").on(t.portId, sql`family(${t.address})`),
    check("ip_allocations_host", sql`masklen(${t.address}) = case when family(${t.address}) = 4 then 32 else 128 end`),
  ],
);

export const sgDirection = pgEnum("sg_direction", ["ingress", "egress"]);
export const sgEthertype = pgEnum("sg_ethertype", ["ipv4", "ipv6"]);
export const sgProtocol = pgEnum("sg_protocol", ["tcp", "udp", "icmp", "any"]);

export const securityGroups = pgTable(
  "security_groups",
  {
    id: uuidPk(),
    tenantId: tenantRef(),
    vpcId: uuid("vpc_id")
      .notNull()
      .references(() => vpcs.id, { onDelete: "cascade" }),
    ...nameAndDescription(),
    // The group created with its VPC (allow all egress, allow ingress from the same group); deleted with the VPC only.
    isDefault: boolean("is_default").notNull().default(false),
    ...timestamps(),
  },
  (t) => [
    uniqueIndex("security_groups_vpc_name_uq").on(t.vpcId, sql`lower(${t.name})`),
    uniqueIndex("security_groups_vpc_default_uq").on(t.vpcId).where(sql`${t.isDefault}`),
    index("security_groups_tenant_created_idx").on(t.tenantId, t.createdAt, t.id),
  ],
);

export const securityGroupRules = pgTable(
  "security_group_rules",
  {
    id: uuidPk(),
    tenantId: tenantRef(),
    groupId: uuid("group_id")
      .notNull()
      .references(() => securityGroups.id, { onDelete: "cascade" }),
    direction: sgDirection("direction").notNull(),
    ethertype: sgEthertype("ethertype").notNull(),
    protocol: sgProtocol("protocol").notNull(),
    portMin: integer("port_min"),
    portMax: integer("port_max"),
    remoteCidr: cidr("remote_cidr"),
    // NO ACTION (checked at the end of the statement): deleting a group other groups' rules name is refused, while
    // its own self-referencing rules, or a whole VPC's groups, go together.
    remoteGroupId: uuid("remote_group_id").references(() => securityGroups.id),
    description: text("description").notNull().default(""),
    createdAt: createdAt(),
  },
  (t) => [
    index("security_group_rules_group_idx").on(t.groupId, t.createdAt, t.id),
    index("security_group_rules_remote_idx").on(t.remoteGroupId),
    check("sg_rules_remote_one", sql`(${t.remoteCidr} is null) <> (${t.remoteGroupId} is null)`),
    check(
      "sg_rules_ports",
      sql`(${t.portMin} is null and ${t.portMax} is null) or (${t.protocol} in ('tcp','udp') and ${t.portMin} between 1 and 65535 and ${t.portMax} between ${t.portMin} and 65535)`,
    ),
  ],
);

export const portSecurityGroups = pgTable(
  "port_security_groups",
  {
    portId: uuid("port_id")
      .notNull()
      .references(() => ports.id, { onDelete: "cascade" }),
    groupId: uuid("group_id")
      .notNull()
      .references(() => securityGroups.id),
  },
  (t) => [primaryKey({ columns: [t.portId, t.groupId] }), index("port_security_groups_group_idx").on(t.groupId)],
);

/** Provider (external) networks: operator-managed ranges of public addresses on a VLAN. */
export const providerNetworks = pgTable(
  "provider_networks",
  {
    id: uuidPk(),
    ...nameAndDescription(),
    cidr: cidr("cidr").notNull(),
    vlanId: integer("vlan_id").notNull(),
    // What a DPU's router needs to reach the network (agent OverlaySpec.router.external): the next hop and its MAC.
    // Both null = not usable for floating IPs or SNAT until an operator sets them (the UI says so).
    gateway: inet("gateway"),
    gatewayMac: macaddr("gateway_mac"),
    // The addresses handed out as floating IPs and SNAT addresses (inclusive); null = the cidr minus its network and
    // broadcast addresses (the gateway is never handed out).
    rangeStart: inet("range_start"),
    rangeEnd: inet("range_end"),
    ...timestamps(),
  },
  (t) => [
    uniqueIndex("provider_networks_name_uq").on(sql`lower(${t.name})`),
    uniqueIndex("provider_networks_vlan_uq").on(t.vlanId),
    index("provider_networks_created_idx").on(t.createdAt, t.id),
    check("provider_networks_vlan_range", sql`${t.vlanId} between 1 and 4094`),
    check("provider_networks_gateway_inside", sql`${t.gateway} is null or (family(${t.gateway}) = 4 and ${t.gateway} << ${t.cidr})`),
    check("provider_networks_gateway_both", sql`(${t.gateway} is null) = (${t.gatewayMac} is null)`),
    check("provider_networks_range_both", sql`(${t.rangeStart} is null) = (${t.rangeEnd} is null)`),
    check(
      "provider_networks_range_inside",
      sql`${t.rangeStart} is null or (${t.rangeStart} << ${t.cidr} and ${t.rangeEnd} << ${t.cidr} and ${t.rangeStart} <= ${t.rangeEnd})`,
    ),
  ],
);

export const providerAddressKind = pgEnum("provider_address_kind", ["floating", "snat"]);

/**
 * Addresses of a provider network in use (the provider side's IPAM): a tenant's floating IPs (attached to one port's
 * IPv4 address, or held unattached) and the SNAT addresses, one per (VPC with that external gateway, DPU hosting a port
 * of the VPC), kept by the overlay pass (server/services/snat.ts). One table, so UNIQUE (network, address) makes the
 * two kinds exclusive with each other as well, and concurrent allocations cannot hand out one address twice.
 */
export const providerAddresses = pgTable(
  "provider_addresses",
  {
    id: uuidPk(),
    tenantId: tenantRef(),
    providerNetworkId: uuid("provider_network_id")
      .notNull()
      .references(() => providerNetworks.id),
    kind: providerAddressKind("kind").notNull(),
    address: inet("address").notNull(),
    // floating: the port whose IPv4 address it is NATed to (null = allocated, not attached).
    portId: uuid("port_id").references(() => ports.id, { onDelete: "set null" }),
    // snat: the VPC and the DPU this address is the SNAT address of.
    vpcId: uuid("vpc_id").references(() => vpcs.id, { onDelete: "cascade" }),
    dpuId: uuid("dpu_id").references(() => nodes.id, { onDelete: "cascade" }),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    uniqueIndex("provider_addresses_network_address_uq").on(t.providerNetworkId, t.address),
    uniqueIndex("provider_addresses_port_uq").on(t.portId),
    uniqueIndex("provider_addresses_snat_uq").on(t.vpcId, t.dpuId),
    index("provider_addresses_tenant_created_idx").on(t.tenantId, t.createdAt, t.id),
    check("provider_addresses_host", sql`family(${t.address}) = 4 and masklen(${t.address}) = 32`),
    check(
      "provider_addresses_kind_fields",
      sql`case ${t.kind} when 'floating' then ${t.vpcId} is null and ${t.dpuId} is null else ${t.portId} is null and ${t.vpcId} is not null and ${t.dpuId} is not null end`,
    ),
  ],
);
