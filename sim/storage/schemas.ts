// Request shapes of the lab storage service's REST API (zod v4). Strict objects: an unknown or mistyped
// field is a 400 naming the field, so a client bug surfaces at once instead of being silently ignored.
import { z } from "zod";

const id = z.string().min(1).max(200);
const name = z.string().min(1).max(63);
/** Byte counts are positive integers that survive a JSON round trip exactly. */
const bytes = z.number().int().positive().max(Number.MAX_SAFE_INTEGER);
// RFC-style qualified names: NVMe host NQN (incl. nqn.2014-08.org.nvmexpress:uuid:…) and iSCSI IQN / EUI.
const nqn = z
  .string()
  .max(223)
  .regex(/^nqn\.\d{4}-\d{2}\.[A-Za-z0-9.-]+(:\S+)?$/, "must be an NVMe qualified name like nqn.2014-08.org.nvmexpress:uuid:<uuid>");
const iqn = z
  .string()
  .max(223)
  .regex(/^(iqn\.\d{4}-\d{2}\.[A-Za-z0-9.-]+(:\S+)?|eui\.[0-9A-Fa-f]{16})$/, "must be an iSCSI qualified name like iqn.2026-01.com.example:host1");
const initiator = z.string().min(1).max(223);

export const CreateDiskPool = z.strictObject({ name, diskIds: z.array(id).min(1).max(10_000) });
export const UpdateDiskPool = z.strictObject({ name: name.optional() });

export const Redundancy = z.discriminatedUnion("type", [
  z.strictObject({ type: z.literal("replica"), copies: z.number().int().min(1).max(3) }),
  z.strictObject({ type: z.literal("ec"), data: z.number().int().min(1).max(16), parity: z.number().int().min(1).max(4) }),
]);
const overcommitRatio = z.number().min(1).max(10);
export const CreateLogicalPool = z.strictObject({
  name,
  diskPoolId: id,
  redundancy: Redundancy,
  thinProvisioned: z.boolean().optional(),
  overcommitRatio: overcommitRatio.optional(),
});
export const UpdateLogicalPool = z.strictObject({ name: name.optional(), overcommitRatio: overcommitRatio.optional() });

/** Blank volume (logicalPoolId + sizeBytes) or thin clone (sourceSnapshotId, size defaults to the snapshot's). */
export const CreateVolume = z
  .strictObject({
    name,
    logicalPoolId: id.optional(),
    sizeBytes: bytes.optional(),
    sourceSnapshotId: id.optional(),
    multiAttach: z.boolean().optional(),
  })
  .superRefine((v, ctx) => {
    if (v.sourceSnapshotId !== undefined) return;
    if (v.logicalPoolId === undefined) ctx.addIssue({ code: "custom", path: ["logicalPoolId"], message: "required unless sourceSnapshotId is given" });
    if (v.sizeBytes === undefined) ctx.addIssue({ code: "custom", path: ["sizeBytes"], message: "required unless sourceSnapshotId is given" });
  });
export const UpdateVolume = z.strictObject({ name: name.optional(), sizeBytes: bytes.optional() });
export const WriteVolume = z.strictObject({ bytes });
export const Empty = z.strictObject({});

export const CreateSnapshot = z.strictObject({ volumeId: id, name });

export const CreateTarget = z.strictObject({ volumeId: id, protocol: z.enum(["nvme-tcp", "iscsi"]), initiator }).superRefine((v, ctx) => {
  const check = v.protocol === "nvme-tcp" ? nqn : iqn;
  const r = check.safeParse(v.initiator);
  if (!r.success) ctx.addIssue({ code: "custom", path: ["initiator"], message: `${v.protocol} initiator ${r.error.issues[0].message}` });
});
export const Connect = z
  .strictObject({ nqn: z.string().min(1).max(223).optional(), iqn: z.string().min(1).max(223).optional(), initiator })
  .superRefine((v, ctx) => {
    if ((v.nqn === undefined) === (v.iqn === undefined)) ctx.addIssue({ code: "custom", path: ["nqn"], message: "give exactly one of nqn or iqn" });
  });

export const Faults = z.strictObject({
  errorRate: z.number().min(0).max(1).optional(),
  latencyMs: z.number().int().min(0).max(60_000).optional(),
  failNext: z.number().int().min(0).max(1_000_000).optional(),
  phase: z.enum(["request", "response"]).optional(),
});

// ---- query strings (all values arrive as strings) ----
const limit = z.coerce.number().int().min(1).max(1000).optional();
const cursor = z.string().min(1).max(100).optional();
const bool = z.enum(["true", "false"]).transform((s) => s === "true");
export const PageQuery = z.strictObject({ limit, cursor });
export const DiskQuery = z.strictObject({
  limit,
  cursor,
  nodeId: id.optional(),
  diskPoolId: id.optional(),
  unassigned: bool.optional(),
  media: z.enum(["ssd", "hdd", "nvme"]).optional(),
});
export const LogicalPoolQuery = z.strictObject({ limit, cursor, diskPoolId: id.optional() });
export const VolumeQuery = z.strictObject({ limit, cursor, logicalPoolId: id.optional(), sourceSnapshotId: id.optional(), name: name.optional() });
export const SnapshotQuery = z.strictObject({ limit, cursor, volumeId: id.optional() });
export const TargetQuery = z.strictObject({
  limit,
  cursor,
  volumeId: id.optional(),
  initiator: initiator.optional(),
  protocol: z.enum(["nvme-tcp", "iscsi"]).optional(),
});
