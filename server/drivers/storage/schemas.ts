// Response shapes of the storage service's REST API (v1), as the BFF expects them. Every reply the
// storage client returns is parsed with these, so a storage backend that drifts from the contract
// fails loudly at the driver boundary instead of deep inside a workflow. Objects are not strict:
// a backend may add fields without breaking Anvil.
import { z } from "zod";

const health = z.enum(["ok", "degraded", "failed"]);
const bytes = z.number().int().nonnegative();

export const StorageNodeSchema = z.object({ id: z.string(), name: z.string(), address: z.string(), health, diskIds: z.array(z.string()) });
export const DiskSchema = z.object({
  id: z.string(),
  name: z.string(),
  nodeId: z.string(),
  sizeBytes: bytes,
  media: z.enum(["ssd", "hdd", "nvme"]),
  health,
  diskPoolId: z.string().nullable(),
});
export const DiskPoolSchema = z.object({
  id: z.string(),
  name: z.string(),
  diskIds: z.array(z.string()),
  nodeIds: z.array(z.string()),
  capacityBytes: bytes,
  allocatedRawBytes: bytes,
  freeRawBytes: bytes,
  logicalPoolIds: z.array(z.string()),
  health,
  createdAt: z.string(),
});
export const RedundancySchema = z.discriminatedUnion("type", [
  z.object({ type: z.literal("replica"), copies: z.number().int() }),
  z.object({ type: z.literal("ec"), data: z.number().int(), parity: z.number().int() }),
]);
export const LogicalPoolSchema = z.object({
  id: z.string(),
  name: z.string(),
  diskPoolId: z.string(),
  redundancy: RedundancySchema,
  thinProvisioned: z.boolean(),
  overcommitRatio: z.number(),
  efficiency: z.number(),
  rawBytes: bytes,
  usableBytes: bytes,
  provisionedBytes: bytes,
  usedBytes: bytes,
  provisionableBytes: bytes,
  provisionLimitBytes: bytes,
  volumeCount: z.number().int(),
  createdAt: z.string(),
});
export const VolumeSchema = z.object({
  id: z.string(),
  name: z.string(),
  logicalPoolId: z.string(),
  sizeBytes: bytes,
  usedBytes: bytes,
  referencedBytes: bytes,
  multiAttach: z.boolean(),
  sourceSnapshotId: z.string().nullable(),
  snapshotCount: z.number().int(),
  targetCount: z.number().int(),
  status: z.enum(["available", "exported"]),
  createdAt: z.string(),
});
export const SnapshotSchema = z.object({
  id: z.string(),
  name: z.string(),
  volumeId: z.string(),
  sizeBytes: bytes,
  dataBytes: bytes,
  cloneCount: z.number().int(),
  createdAt: z.string(),
});
// "rbd": Ceph RBD, attached with a per-target cephx identity (the key comes only from StorageClient.targetSecret).
const protocol = z.enum(["nvme-tcp", "iscsi", "rbd"]);
/** What an RBD attacher needs besides the key: where the image is and which cephx identity opens it. */
export const RbdTargetSchema = z.object({ pool: z.string(), namespace: z.string(), image: z.string(), user: z.string(), monitors: z.string() });
export const TargetSchema = z.object({
  id: z.string(),
  volumeId: z.string(),
  protocol,
  nqn: z.string().nullable(),
  iqn: z.string().nullable(),
  address: z.string(),
  port: z.number().int(),
  initiator: z.string(),
  createdAt: z.string(),
  lastConnectedAt: z.string().nullable(),
  /** Set for protocol "rbd" only. */
  rbd: RbdTargetSchema.nullable().optional(),
});
export const ConnectionSchema = z.object({
  protocol,
  nqn: z.string().nullable(),
  iqn: z.string().nullable(),
  address: z.string(),
  port: z.number().int(),
  initiator: z.string(),
  targetId: z.string(),
  volumeId: z.string(),
  namespace: z.object({ id: z.number().int(), uuid: z.string(), sizeBytes: bytes, blockSizeBytes: z.number().int(), multiAttach: z.boolean() }),
});
export const HealthSchema = z.object({ status: z.string() });
export const ErrorBodySchema = z.object({
  error: z.object({ code: z.string(), message: z.string(), field: z.string().optional(), details: z.record(z.string(), z.unknown()).optional() }),
});

export function pageOf<T extends z.ZodType>(item: T) {
  return z.object({ items: z.array(item), nextCursor: z.string().nullable() });
}

export type StorageNode = z.infer<typeof StorageNodeSchema>;
export type Disk = z.infer<typeof DiskSchema>;
export type DiskPool = z.infer<typeof DiskPoolSchema>;
export type Redundancy = z.infer<typeof RedundancySchema>;
export type LogicalPool = z.infer<typeof LogicalPoolSchema>;
export type Volume = z.infer<typeof VolumeSchema>;
export type Snapshot = z.infer<typeof SnapshotSchema>;
export type Target = z.infer<typeof TargetSchema>;
export type RbdTarget = z.infer<typeof RbdTargetSchema>;
export type TargetProtocol = z.infer<typeof protocol>;
export type Connection = z.infer<typeof ConnectionSchema>;
export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}
