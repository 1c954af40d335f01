// Instances: a tenant's bare-metal server, i.e. one host node booted over its DPU from a system volume cloned
// from an image. The row is what the tenant sees; the instance.create / instance.delete workflows fill in the
// storage ids, port and node as their steps succeed, so a crash or a compensation knows exactly what to undo.
// Rules live here as constraints so concurrent creates cannot break them:
//  - names are unique per tenant (case-insensitive), among instances that are not deleted;
//  - a node carries at most one instance (partial UNIQUE on node_id where it is set).
// File named compute.ts, not instances.ts: drizzle.config.ts globs db/schema/[!i]*.ts, which skips every name starting with "i".
import { sql } from "drizzle-orm";
import { check, index, integer, jsonb, pgEnum, pgTable, text, timestamp, uniqueIndex, uuid } from "drizzle-orm/pg-core";
import { INSTANCE_STATES } from "../../domain/instance-lifecycle";
import { nameAndDescription, timestamps, uuidPk } from "./columns";
import { nodes, pools } from "./hardware";
import { ports, subnets } from "./network";
import { operations } from "./operations";
import { images } from "./storage";
import { tenantRef } from "./tenancy";

// Millisecond precision: list cursors carry created_at as a JS Date (ms), so a microsecond column would make the
// next page repeat the row the cursor points at.

export const instanceState = pgEnum("instance_state", INSTANCE_STATES);
/** What to do when the host under a running instance fails: leave it to the tenant, or re-provision elsewhere. */
export const instanceRecoveryPolicy = pgEnum("instance_recovery_policy", ["manual", "reprovision"]);

export const instances = pgTable(
  "instances",
  {
    id: uuidPk(),
    tenantId: tenantRef(),
    ...nameAndDescription(),
    poolId: uuid("pool_id")
      .notNull()
      .references(() => pools.id),
    /** The host the instance runs on; set by the reserve step, cleared when the node goes back to the pool. */
    nodeId: uuid("node_id").references(() => nodes.id, { onDelete: "set null" }),
    imageId: uuid("image_id").references(() => images.id, { onDelete: "set null" }),
    subnetId: uuid("subnet_id").references(() => subnets.id),
    /** Security groups the instance's port gets at create time. */
    securityGroupIds: jsonb("security_group_ids").$type<string[]>().notNull().default([]),
    systemVolumeSizeGiB: integer("system_volume_size_gib").notNull(),
    /** Ids of the system volume and its NVMe-oF target on the storage service (set once created). */
    storageVolumeId: text("storage_volume_id"),
    storageTargetId: text("storage_target_id"),
    /** While in rescue: the storage-service id of the rescue boot volume (cloned from the rescue image; deleted by
     *  unrescue or delete). The instance's own system volume stays as it is, presented as a data disk meanwhile. */
    rescueStorageVolumeId: text("rescue_storage_volume_id"),
    /** The instance's primary port (MAC + address, NIC 0); ports.node_id points at the host while running. Every NIC,
     *  this one included, is a port with ports.instance_id = this instance and its ports.nic_index. */
    portId: uuid("port_id").references(() => ports.id, { onDelete: "set null" }),
    state: instanceState("state").notNull().default("creating"),
    /** Why the instance is failed, in words a person can act on. */
    stateReason: text("state_reason"),
    userData: text("user_data").notNull().default(""),
    sshKeyIds: jsonb("ssh_key_ids").$type<string[]>().notNull().default([]),
    recoveryPolicy: instanceRecoveryPolicy("recovery_policy").notNull().default("manual"),
    /** Host traits the tenant asked for at create, on top of the pool's: the scheduler places it only on a host having all. */
    requiredTraits: text("required_traits").array().notNull().default(sql`'{}'::text[]`),
    /** The latest create/delete operation (its steps show progress). */
    operationId: uuid("operation_id").references(() => operations.id, { onDelete: "set null" }),
    /** Size requested, for quota accounting (cores / RAM of the host the pool offers). */
    cores: integer("cores").notNull().default(0),
    ramGiB: integer("ram_gib").notNull().default(0),
    ...timestamps(),
    deletedAt: timestamp("deleted_at", { withTimezone: true }),
  },
  (t) => [
    uniqueIndex("instances_tenant_name_uq").on(t.tenantId, sql`lower(${t.name})`).where(sql`${t.state} <> 'deleted'`),
    uniqueIndex("instances_node_uq").on(t.nodeId).where(sql`${t.nodeId} is not null`),
    index("instances_tenant_created_idx").on(t.tenantId, t.createdAt, t.id),
    index("instances_pool_idx").on(t.poolId),
    check("instances_size_positive", sql`${t.systemVolumeSizeGiB} > 0`),
  ],
);
