// Hardware area: bare-metal pools, nodes (hosts and their DPUs as children) and hardware events.
// Uniqueness and exclusivity live here as constraints, not in application checks.
import { sql } from "drizzle-orm";
import { boolean, check, index, integer, jsonb, pgEnum, pgTable, text, uniqueIndex, uuid } from "drizzle-orm/pg-core";
import { instant, uuidPk, nameAndDescription, timestamps } from "./columns";

// Bare-metal pools and nodes
export const pools = pgTable(
  "pools",
  {
    id: uuidPk(),
    ...nameAndDescription(),
    // The hardware class every host of the pool belongs to, e.g. "bm.gpu.a100".
    resourceClass: text("resource_class").notNull(),
    // The flavour's largest system volume: an instance (or an image's minimum) above it does not fit this pool.
    maxSystemVolumeGiB: integer("max_system_volume_gib").notNull().default(2048),
    // Traits every host must have for an instance of this pool to be placed on it (domain/traits.ts normalizes them).
    requiredTraits: text("required_traits").array().notNull().default(sql`'{}'::text[]`),
    ...timestamps(),
  },
  (t) => [
    uniqueIndex("pools_name_uq").on(sql`lower(${t.name})`),
    index("pools_created_idx").on(t.createdAt, t.id),
    check("pools_max_system_volume", sql`${t.maxSystemVolumeGiB} between 1 and 65536`),
  ],
);

export const nodeKind = pgEnum("node_kind", ["host", "dpu"]);
export const bmcDriver = pgEnum("bmc_driver", ["redfish", "ipmi"]);
/** How a node's BMC is reached: at its own address, or (a DPU) through its host's BMC, which proxies it (a BMC cascade). */
export const bmcAccess = pgEnum("bmc_access", ["direct", "cascade"]);

export const nodes = pgTable(
  "nodes",
  {
    id: uuidPk(),
    name: text("name").notNull(),
    kind: nodeKind("kind").notNull().default("host"),
    // A DPU is a child of its host (Ironic's parent/child model); deleted with it.
    parentNodeId: uuid("parent_node_id").references((): any => nodes.id, { onDelete: "cascade" }),
    poolId: uuid("pool_id").references(() => pools.id, { onDelete: "restrict" }),
    bmcDriver: bmcDriver("bmc_driver").notNull(),
    // "cascade": a DPU without a management address of its own; bmc_address is then the proxy path on its host's BMC
    // (…/redfish/v1/Oem/Anvil/Cascade/<dpu>), called with the DPU BMC's own credentials.
    bmcAddress: text("bmc_address").notNull(),
    bmcAccess: bmcAccess("bmc_access").notNull().default("direct"),
    bmcVerifyTls: boolean("bmc_verify_tls").notNull().default(true),
    // AES-256-GCM sealed {username,password}; never leaves the server. Null for a DPU found at inspection whose own
    // BMC credentials nobody has given yet: Anvil never reuses its host's, and does not call that BMC until they are set.
    bmcCredentials: text("bmc_credentials"),
    bmcCredentialsFingerprint: text("bmc_credentials_fingerprint"),
    provisionState: text("provision_state").notNull().default("enroll"),
    powerState: text("power_state").notNull().default("unknown"),
    health: text("health").notNull().default("unknown"),
    maintenance: boolean("maintenance").notNull().default(false),
    maintenanceReason: text("maintenance_reason"),
    fault: text("fault"),
    lastError: text("last_error"),
    inventory: jsonb("inventory").$type<Record<string, unknown>>(),
    dedicatedPower: boolean("dedicated_power").notNull().default(false),
    // DPU agent endpoint and its per-agent token (sealed like BMC credentials).
    agentUrl: text("agent_url"),
    agentToken: text("agent_token"),
    agentStatus: text("agent_status").notNull().default("unknown"),
    agentHeartbeatAt: instant("agent_heartbeat_at"),
    // A DPU's underlay address (its VXLAN tunnel endpoint): reported by its agent at inspect (GET /v1/health
    // underlayIp), or set by an operator ("operator" then wins over the agent's report until cleared).
    underlayIp: text("underlay_ip"),
    underlayIpSource: text("underlay_ip_source"), // agent | operator
    // Set when Anvil last heard from the BMC (any successful call).
    bmcSeenAt: instant("bmc_seen_at"),
    powerChangedAt: instant("power_changed_at"),
    inspectedAt: instant("inspected_at"),
    // Which poll shard the node belongs to (spreads BMC polling across workers and time).
    syncShard: integer("sync_shard").notNull().default(0),
    // Operator-given labels of the host's capabilities (CUSTOM_GPU, HW_CPU_X86_AVX512F…): the scheduler places an
    // instance only on a host having every trait its pool and its create request require.
    traits: text("traits").array().notNull().default(sql`'{}'::text[]`),
    ...timestamps(),
  },
  (t) => [
    uniqueIndex("nodes_name_uq").on(t.name),
    index("nodes_traits_idx").using("gin", t.traits),
    uniqueIndex("nodes_bmc_address_uq").on(t.bmcAddress),
    index("nodes_pool_idx").on(t.poolId),
    index("nodes_parent_idx").on(t.parentNodeId),
    index("nodes_state_idx").on(t.provisionState),
    index("nodes_list_idx").on(t.kind, t.name, t.id),
    index("nodes_power_idx").on(t.powerState),
    index("nodes_health_idx").on(t.health),
    index("nodes_shard_idx").on(t.syncShard),
    index("nodes_fault_idx").on(t.id).where(sql`${t.fault} is not null`),
    check("nodes_underlay_ip_source", sql`${t.underlayIpSource} in ('agent', 'operator')`),
    // Only a DPU may wait for its credentials; a host is enrolled with them.
    // Only a DPU is reached through its host's BMC.
    check("nodes_bmc_access_cascade", sql`${t.bmcAccess} = 'direct' or (${t.kind} = 'dpu' and ${t.parentNodeId} is not null)`),
    check("nodes_credentials_set", sql`${t.kind} = 'dpu' or (${t.bmcCredentials} is not null and ${t.bmcCredentialsFingerprint} is not null)`),
  ],
);

// Hardware events: SEL entries, power and health changes, faults, agent heartbeats lost, firmware steps.
export const hardwareEvents = pgTable(
  "hardware_events",
  {
    id: uuidPk(),
    nodeId: uuid("node_id")
      .notNull()
      .references(() => nodes.id, { onDelete: "cascade" }),
    at: instant("at").notNull().defaultNow(),
    kind: text("kind").notNull(), // sel | power | health | fault | agent | firmware | lifecycle | console
    severity: text("severity").notNull(), // info | ok | warning | critical
    message: text("message").notNull(),
    // For SEL entries: the BMC's entry id, so re-reading the log never duplicates.
    sourceId: text("source_id"),
    details: jsonb("details").$type<Record<string, unknown>>(),
  },
  (t) => [
    index("hwevents_at_idx").on(t.at, t.id),
    index("hwevents_node_idx").on(t.nodeId, t.at),
    index("hwevents_sev_idx").on(t.severity, t.at),
    uniqueIndex("hwevents_source_uq").on(t.nodeId, t.kind, t.sourceId),
  ],
);
