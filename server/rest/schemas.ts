// Response shapes of the public REST API (/api/v1), for its OpenAPI document and the test that validates every
// response against it. Request shapes are not declared here: they are the tRPC procedures' own input schemas.
// Objects are open (extra fields may appear in later versions — clients must ignore what they do not know); the
// fields named are the contract. Enumerations come from the database schema, so they cannot drift.
import { z } from "zod";
import { instanceRecoveryPolicy, instanceState } from "@/db/schema/compute";
import { imageState, imageVisibility, volumeState } from "@/db/schema/storage";

const id = z.uuid();
const when = z.iso.datetime();
const nullableText = z.string().nullable();

/** A page of a list: `nextCursor` goes back as `cursor` for the next page; null on the last page. */
const pages = new Map<z.ZodType, z.ZodType>();
export const pageOf = <T extends z.ZodType>(item: T) => {
  let p = pages.get(item);
  if (!p) {
    const name = (z.globalRegistry.get(item) as { id?: string } | undefined)?.id ?? "Item";
    p = z
      .object({ items: z.array(item), nextCursor: z.string().nullable() })
      .meta({ id: `${name}Page`, description: "One page; pass nextCursor as cursor for the next page" });
    pages.set(item, p);
  }
  return p;
};

export const operationStep = z.looseObject({
  name: z.string(),
  status: z.enum(["pending", "running", "done", "failed", "skipped", "compensated"]),
  error: z.string().optional(),
  detail: z.string().optional(),
});

/** An operation as an instance shows its latest one. */
export const operationSummary = z
  .looseObject({
    id,
    kind: z.string(),
    status: z.enum(["pending", "running", "succeeded", "failed", "cancelled"]),
    steps: z.array(operationStep),
    currentStep: nullableText,
    progress: z.number().int().nullable(),
    error: nullableText,
    createdAt: when,
    updatedAt: when,
  })
  .meta({ id: "OperationSummary" });

export const operation = operationSummary
  .extend({ targetType: z.string(), targetId: nullableText, targetName: nullableText })
  .meta({ id: "Operation", description: "Progress of long-running work: poll until status is succeeded, failed or cancelled" });

/** What a call that starts long work answers (202): the resource it is about and the operation to poll. */
export const accepted = z
  .looseObject({
    id: id.optional(),
    operationId: id,
    operation: z.string().meta({ description: "URL of the operation resource to poll" }),
  })
  .meta({ id: "Accepted" });

export const instance = z
  .looseObject({
    id,
    name: z.string(),
    description: z.string(),
    state: z.enum(instanceState.enumValues),
    stateReason: nullableText,
    poolId: id,
    poolName: z.string(),
    imageId: id.nullable(),
    subnetId: id.nullable(),
    systemVolumeSizeGiB: z.number().int(),
    recoveryPolicy: z.enum(instanceRecoveryPolicy.enumValues),
    operationId: id.nullable(),
    address: nullableText.optional(),
    createdAt: when,
    updatedAt: when,
  })
  .meta({ id: "Instance" });

export const instanceDetail = instance
  .extend({
    placed: z.boolean(),
    mac: nullableText.optional(),
    operation: operationSummary.nullable(),
    volumes: z.array(
      z.looseObject({ id, name: z.string(), sizeGiB: z.number().int(), kind: z.enum(["system", "data"]), state: z.enum(volumeState.enumValues) }),
    ),
    allowed: z.record(z.string(), z.unknown()),
  })
  .meta({ id: "InstanceDetail" });

export const instanceNic = z
  .looseObject({
    portId: id,
    index: z.number().int().meta({ description: "0 is the primary NIC (eth0); eth<index> in the guest" }),
    mac: z.string(),
    address: nullableText,
    subnetId: id,
    subnetName: z.string(),
    subnetCidr: z.string(),
    vpcId: id,
    vpcName: z.string(),
    groups: z.array(z.looseObject({ id, name: z.string() })),
    bound: z.boolean().meta({ description: "The NIC exists on the instance's DPU" }),
  })
  .meta({ id: "InstanceNic" });
export const instanceNics = z.array(instanceNic).meta({ id: "InstanceNics" });

export const consoleUrl = z
  .object({ url: z.string().meta({ description: "WebSocket URL of the instance's serial console (authenticate with the same token)" }) })
  .meta({ id: "ConsoleUrl" });

export const volume = z
  .looseObject({
    id,
    name: z.string(),
    description: z.string(),
    sizeGiB: z.number().int(),
    kind: z.enum(["system", "data"]),
    multiAttach: z.boolean(),
    state: z.enum(volumeState.enumValues),
    sourceImageId: id.nullable(),
    sourceSnapshotId: id.nullable(),
    createdAt: when,
    updatedAt: when,
  })
  .meta({ id: "Volume" });

export const snapshot = z.looseObject({ id, name: z.string(), volumeId: id.nullable(), createdAt: when }).meta({ id: "Snapshot" });

export const image = z
  .looseObject({
    id,
    name: z.string(),
    os: z.string(),
    version: z.string(),
    minSizeGiB: z.number().int(),
    visibility: z.enum(imageVisibility.enumValues),
    state: z.enum(imageState.enumValues),
    createdAt: when,
  })
  .meta({ id: "Image" });

export const vpc = z.looseObject({ id, name: z.string(), description: z.string(), cidr: z.string(), createdAt: when }).meta({ id: "Vpc" });
export const subnet = z
  .looseObject({
    id,
    vpcId: id,
    name: z.string(),
    cidr: z.string(),
    gateway: nullableText,
    ipv6Cidr: nullableText.optional(),
    ipv6Gateway: nullableText.optional(),
    createdAt: when,
  })
  .meta({ id: "Subnet" });
export const port = z
  .looseObject({ id, subnetId: id, name: z.string(), mac: z.string(), address: nullableText.optional(), ipv6Address: nullableText.optional() })
  .meta({ id: "Port" });
export const securityGroup = z.looseObject({ id, vpcId: id, name: z.string(), description: z.string() }).meta({ id: "SecurityGroup" });
export const securityGroupDetail = securityGroup
  .extend({ rules: z.array(z.looseObject({ id, direction: z.enum(["ingress", "egress"]) })) })
  .meta({ id: "SecurityGroupDetail" });
export const securityRule = z.looseObject({ id, direction: z.enum(["ingress", "egress"]) }).meta({ id: "SecurityRule" });
export const sshKey = z.looseObject({ id, name: z.string(), fingerprint: z.string(), createdAt: when }).meta({ id: "SshKey" });

export const node = z
  .looseObject({
    id,
    name: z.string(),
    kind: z.enum(["host", "dpu"]),
    provisionState: z.string(),
    powerState: z.string(),
    maintenance: z.boolean(),
    createdAt: when,
  })
  .meta({ id: "Node" });
export const pool = z.looseObject({ id, name: z.string(), description: z.string(), resourceClass: z.string(), createdAt: when }).meta({ id: "Pool" });
export const tenant = z.looseObject({ id, slug: z.string(), name: z.string(), state: z.enum(["active", "suspended"]), createdAt: when }).meta({ id: "Tenant" });
export const user = z.looseObject({ id: z.string(), email: z.string(), name: z.string(), disabled: z.boolean() }).meta({ id: "User" });

/** The outcome of a node action (power, inspect, maintenance) on the node of the path. */
export const nodeResults = z
  .looseObject({ id, name: z.string(), ok: z.boolean(), message: z.string(), operationId: id.optional() })
  .meta({ id: "NodeActionResult", description: "Outcome of the action on this node; ok false says why in message" });

export const flavors = z
  .array(
    z.looseObject({
      poolId: id,
      name: z.string(),
      cores: z.number().int(),
      ramGiB: z.number().int(),
      maxSystemVolumeGiB: z.number().int(),
      /** Traits every host of the pool has (an instance may ask for more: POST /instances requiredTraits). */
      requiredTraits: z.array(z.string()),
      total: z.number().int(),
      available: z.number().int(),
    }),
  )
  .meta({ id: "FlavorList" });
/** A floating IP: an address of a provider network, attached 1:1 to an instance NIC's IPv4 address or free. */
export const floatingIp = z
  .looseObject({
    id,
    address: z.string(),
    providerNetworkId: id,
    providerNetworkName: z.string(),
    portId: id.nullable().optional(),
    portName: nullableText.optional(),
    fixedIp: nullableText.optional(),
    instanceId: id.nullable().optional(),
    instanceName: nullableText.optional(),
    onDpu: z
      .looseObject({ state: z.enum(["applied", "pending", "failed"]), error: nullableText, dpuName: z.string() })
      .nullable()
      .optional()
      .describe("Where the NAT stands on the DPU of the attached NIC; null when not attached"),
    createdAt: when.optional(),
  })
  .meta({ id: "FloatingIp" });
export const floatingIpChange = z
  .looseObject({ id, address: z.string(), portId: id.optional(), fixedIp: nullableText.optional(), instanceName: nullableText.optional() })
  .meta({ id: "FloatingIpChange", description: "The floating IP after an attach, move or detach (the DPUs follow within seconds)" });
export const floatingIpNetworks = z
  .array(z.looseObject({ id, name: z.string(), cidr: z.string(), free: z.number().int() }))
  .meta({ id: "FloatingIpNetworkList", description: "Provider networks a tenant can allocate from, with free addresses" });
export const vpcExternalGateway = z
  .looseObject({ id, externalNetworkId: id.nullable() })
  .meta({ id: "VpcExternalGateway", description: "The VPC's provider network for SNAT and floating IPs; null: none" });
const biosValue = z.union([z.string(), z.number(), z.boolean()]);
export const nodeBios = z
  .looseObject({
    current: z.record(z.string(), biosValue),
    pending: z.record(z.string(), biosValue).describe("Attributes stored on the BMC that apply at the next reboot"),
    registry: z.array(z.looseObject({ name: z.string() })).nullable(),
  })
  .meta({ id: "NodeBios" });
export const actionMessage = z.looseObject({ ok: z.boolean(), message: z.string() }).meta({ id: "ActionMessage" });
export const nodeTraits = z.looseObject({ traits: z.array(z.string()) }).meta({ id: "NodeTraits" });
export const poolTraits = z.looseObject({ requiredTraits: z.array(z.string()) }).meta({ id: "PoolTraits" });
export const poolTraitChoice = z
  .looseObject({ required: z.array(z.string()), available: z.array(z.string()) })
  .meta({ id: "PoolTraitChoice", description: "The pool's required traits and the traits its hosts offer" });
export const dpuBmcCredentials = z
  .looseObject({ id, bmcCredentialsFingerprint: z.string() })
  .meta({ id: "DpuBmcCredentials", description: "Saved after the DPU's BMC accepted them; the password never comes back" });
export const rollout = z
  .looseObject({
    id,
    imageUri: z.string(),
    maxUnavailable: z.number().int(),
    instancePolicy: z.string(),
    poolId: id.nullable(),
    status: z.string(),
    reason: z.string().nullable(),
    createdAt: when,
  })
  .meta({ id: "Rollout" });
export const rolloutDetail = rollout
  .extend({
    hosts: z.array(z.looseObject({ hostId: id, hostName: z.string(), state: z.string(), message: z.string().nullable(), operationIds: z.array(z.string()) })),
  })
  .meta({ id: "RolloutDetail" });
export const rolloutRef = z.looseObject({ id }).meta({ id: "RolloutRef" });
export const deleted = z.looseObject({}).meta({ id: "Deleted" });

/** RFC 9457 problem details: every error the API answers. */
export const problem = z
  .looseObject({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    detail: z.string(),
    instance: z.string().optional(),
    code: z.string().meta({ description: "The error class, e.g. NOT_FOUND, BAD_REQUEST, PRECONDITION_FAILED" }),
    fieldErrors: z.record(z.string(), z.array(z.string())).optional(),
  })
  .meta({ id: "Problem" });
