// Storage: Anvil's own records of tenant volumes, snapshots, system-disk images and volume attachments.
// The storage service (server/drivers/storage) is the source of truth for bytes and capacity; these rows say
// who owns what, and map each record to its object on the service (storage_*_id). Rules live here as
// constraints so concurrent requests cannot break them:
//  - names are unique per tenant (volumes, snapshots) and per scope for images (public, or one tenant's);
//  - a volume that is not multi-attach has at most one attachment: volume_attachments copies the volume's
//    multi_attach through a composite foreign key (kept in step by ON UPDATE CASCADE) and a partial unique
//    index allows one row per volume where multi_attach is false.
import { sql } from "drizzle-orm";
import { type AnyPgColumn, bigint, boolean, check, foreignKey, index, integer, pgEnum, pgTable, text, unique, uniqueIndex, uuid } from "drizzle-orm/pg-core";
import { createdAt, uuidPk, nameAndDescription, timestamps } from "./columns";
import { nodes } from "./hardware";
import { tenantRef, tenants } from "./tenancy";

export const volumeKind = pgEnum("volume_kind", ["system", "data"]);
export const volumeState = pgEnum("volume_state", ["creating", "available", "attached", "deleting", "error"]);
export const snapshotState = pgEnum("snapshot_state", ["creating", "available", "deleting", "error"]);
export const imageVisibility = pgEnum("image_visibility", ["public", "tenant"]);
export const imageSource = pgEnum("image_source", ["upload", "snapshot", "clone"]);
export const imageFormat = pgEnum("image_format", ["raw", "qcow2"]);
export const imageState = pgEnum("image_state", ["creating", "available", "deleting", "error"]);

/** System-disk images: a storage volume holding the image's bytes and the "golden" snapshot system disks are cloned from. */
export const images = pgTable(
  "images",
  {
    id: uuidPk(),
    ...nameAndDescription(),
    os: text("os").notNull(),
    version: text("version").notNull(),
    /** Smallest volume an instance may boot this image from. */
    minSizeGiB: integer("min_size_gib").notNull(),
    /** Size of the image's own storage volume (the golden snapshot's size). */
    sizeBytes: bigint("size_bytes", { mode: "number" }).notNull(),
    format: imageFormat("format").notNull().default("raw"),
    visibility: imageVisibility("visibility").notNull().default("public"),
    /** Set when visibility = tenant: the only tenant that sees the image. */
    tenantId: uuid("tenant_id").references(() => tenants.id, { onDelete: "cascade" }),
    source: imageSource("source").notNull(),
    /** The tenant snapshot (source = snapshot) or image (source = clone) it was made from; history only. */
    sourceSnapshotId: uuid("source_snapshot_id").references((): AnyPgColumn => snapshots.id, { onDelete: "set null" }),
    sourceImageId: uuid("source_image_id").references((): AnyPgColumn => images.id, { onDelete: "set null" }),
    logicalPoolId: text("logical_pool_id").notNull(),
    storageVolumeId: text("storage_volume_id"),
    storageSnapshotId: text("storage_snapshot_id"),
    state: imageState("state").notNull().default("creating"),
    /** SHA-256 (hex) of the file uploaded or imported, computed as it arrived; null for images made from snapshots. */
    checksumSha256: text("checksum_sha256"),
    /** Marked by an operator: the image a tenant's rescue boots by default (else the instance's own image). */
    rescue: boolean("rescue").notNull().default(false),
    ...timestamps(),
  },
  (t) => [
    check("images_checksum_hex", sql`${t.checksumSha256} ~ '^[0-9a-f]{64}$'`),
    // One name per scope: all public images share a scope; each tenant's private images have their own.
    uniqueIndex("images_scope_name_uq").on(sql`coalesce(${t.tenantId}, '00000000-0000-0000-0000-000000000000'::uuid)`, sql`lower(${t.name})`),
    uniqueIndex("images_storage_volume_uq").on(t.storageVolumeId),
    index("images_os_idx").on(t.os, t.version),
    index("images_created_idx").on(t.createdAt, t.id),
    index("images_tenant_idx").on(t.tenantId),
    check("images_visibility_tenant", sql`(${t.visibility} = 'tenant') = (${t.tenantId} is not null)`),
    check("images_min_size", sql`${t.minSizeGiB} between 1 and 65536`),
    check("images_size_positive", sql`${t.sizeBytes} > 0`),
  ],
);

export const volumes = pgTable(
  "volumes",
  {
    id: uuidPk(),
    tenantId: tenantRef(),
    ...nameAndDescription(),
    sizeGiB: integer("size_gib").notNull(),
    kind: volumeKind("kind").notNull().default("data"),
    logicalPoolId: text("logical_pool_id").notNull(),
    sourceImageId: uuid("source_image_id").references(() => images.id, { onDelete: "set null" }),
    sourceSnapshotId: uuid("source_snapshot_id").references((): AnyPgColumn => snapshots.id, { onDelete: "set null" }),
    multiAttach: boolean("multi_attach").notNull().default(false),
    state: volumeState("state").notNull().default("creating"),
    storageVolumeId: text("storage_volume_id"),
    /** Why the last storage call failed (state = error). */
    error: text("error"),
    ...timestamps(),
  },
  (t) => [
    uniqueIndex("volumes_tenant_name_uq").on(t.tenantId, sql`lower(${t.name})`),
    uniqueIndex("volumes_storage_volume_uq").on(t.storageVolumeId),
    // Target of volume_attachments' composite FK (carries multi_attach into the attachment rows).
    unique("volumes_id_multi_attach_uq").on(t.id, t.multiAttach),
    index("volumes_tenant_created_idx").on(t.tenantId, t.createdAt, t.id),
    index("volumes_created_idx").on(t.createdAt, t.id),
    index("volumes_state_idx").on(t.state),
    index("volumes_pool_idx").on(t.logicalPoolId),
    index("volumes_source_image_idx").on(t.sourceImageId),
    index("volumes_source_snapshot_idx").on(t.sourceSnapshotId),
    check("volumes_size_positive", sql`${t.sizeGiB} between 1 and 65536`),
  ],
);

export const snapshots = pgTable(
  "snapshots",
  {
    id: uuidPk(),
    tenantId: tenantRef(),
    // The service deletes a volume's snapshots with it (they share its blocks), so the rows go too.
    volumeId: uuid("volume_id")
      .notNull()
      .references((): AnyPgColumn => volumes.id, { onDelete: "cascade" }),
    ...nameAndDescription(),
    sizeGiB: integer("size_gib").notNull(),
    state: snapshotState("state").notNull().default("creating"),
    storageSnapshotId: text("storage_snapshot_id"),
    ...timestamps(),
  },
  (t) => [
    uniqueIndex("snapshots_tenant_name_uq").on(t.tenantId, sql`lower(${t.name})`),
    uniqueIndex("snapshots_storage_snapshot_uq").on(t.storageSnapshotId),
    index("snapshots_tenant_created_idx").on(t.tenantId, t.createdAt, t.id),
    index("snapshots_volume_idx").on(t.volumeId),
  ],
);

/** Where a volume is attached (a node's DPU today; instances arrive with provisioning). */
export const volumeAttachments = pgTable(
  "volume_attachments",
  {
    id: uuidPk(),
    volumeId: uuid("volume_id").notNull(),
    /** Copy of volumes.multi_attach, kept equal by the composite FK below. */
    multiAttach: boolean("multi_attach").notNull(),
    nodeId: uuid("node_id").references(() => nodes.id, { onDelete: "cascade" }),
    /** Filled by the provisioning workflow (instances table arrives with it). */
    instanceId: uuid("instance_id"),
    /** Storage target the volume is exported through, when exported. */
    storageTargetId: text("storage_target_id"),
    createdAt: createdAt(),
  },
  (t) => [
    foreignKey({ columns: [t.volumeId, t.multiAttach], foreignColumns: [volumes.id, volumes.multiAttach], name: "volume_attachments_volume_fk" })
      .onUpdate("cascade")
      .onDelete("cascade"),
    uniqueIndex("volume_attachments_single_uq").on(t.volumeId).where(sql`not ${t.multiAttach}`),
    uniqueIndex("volume_attachments_node_uq").on(t.volumeId, t.nodeId),
    index("volume_attachments_node_idx").on(t.nodeId),
  ],
);
