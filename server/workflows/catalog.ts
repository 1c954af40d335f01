// The workflow catalog: every durable workflow Anvil runs, declared once — its name (stored with each run: never
// rename one), the queue it runs on, its argument tuple, and for the operation-backed ones the steps a person sees on
// the operation. Pure data and types: no engine, DBOS or database import, so routers and UI components may import it.
//
// The argument tuple is checked on both sides: `defineWorkflow(catalog.x, fn)` (server/workflows/engine.ts) checks the
// body's parameters, `startOperation(tx, catalog.x, …)` / `enqueue(catalog.x, args)` (server/workflows/start.ts) the
// caller's arguments. Operation ids are branded (`OperationId`), so an operation id and another id cannot trade places.
// How to add a workflow: CONTRIBUTING.md, "Add a workflow".
import type { PowerAction } from "@/server/drivers/bmc";

/** The queues work is enqueued on (engine.ts registers them with these options). */
export const QUEUES = {
  // Operator-triggered node work (inspect, power, firmware): bounded so a bulk action can't flood BMCs.
  nodes: { concurrency: 64 },
  // Periodic BMC/agent polling shards.
  sync: { concurrency: 40 },
  // Tenant provisioning and its inverse. Polled every 100 ms (DBOS's default is 1 s): a tenant's click should not
  // wait up to a second before any work starts; an idle poll is one indexed query.
  instances: { concurrency: 200, minPollingIntervalMs: 100 },
  // Webhook deliveries (server/workflows/webhooks.ts): bounded so a burst of events can't open hundreds of sockets.
  webhooks: { concurrency: 20 },
  // Security-rule passes (server/workflows/rules.ts): one at a time across replicas, so a pass that compiled older
  // rules can never push them after a newer one; each pass works every DPU in parallel. Polled like instances.
  rules: { concurrency: 1, minPollingIntervalMs: 50 },
  // VXLAN overlay passes (server/workflows/overlay.ts): one at a time across replicas, like rules.
  overlay: { concurrency: 1, minPollingIntervalMs: 50 },
} as const;
export type QueueName = keyof typeof QUEUES;

/** An operation's id, which is also its workflow's id. Only startOperation (and the operations table) mint one. */
export type OperationId = string & { readonly __brand: "OperationId" };

/** A workflow: its stable name, its queue and (as a type only) its argument tuple. */
export interface WorkflowEntry<A extends unknown[] = never> {
  readonly name: string;
  readonly queue: QueueName;
  /** Type-only: makes the entry invariant in its arguments (never set at run time). */
  readonly __args?: (a: A) => A;
}

/** What an operation-backed workflow runs against, as its operation row records it. */
export type TargetType = "instance" | "node";

/** A workflow that shows its progress on an `operations` row (one row per run; the row's id is the run's id). */
export interface OperationEntry<A extends unknown[] = never> extends WorkflowEntry<A> {
  readonly target: TargetType;
  /** The operation's kind when it is not the workflow's name (instance.power runs the kinds start/stop/reboot). */
  readonly kind?: (args: A) => string;
  /** The steps a person sees, in order, listed on the operation up front; the workflow marks them as it goes. */
  readonly steps: (args: A) => readonly string[];
  /** Which argument is the operation's id. */
  readonly operationId: (args: A) => OperationId;
}

/** The argument tuple of a catalog entry. */
export type ArgsOf<E> = E extends WorkflowEntry<infer A> ? A : never;

/** A periodic workflow: run by the engine's scheduler on the sync queue, never enqueued by hand. */
export interface ScheduleEntry {
  readonly schedule: string;
}

const workflow =
  <A extends unknown[]>() =>
  (name: string, queue: QueueName): WorkflowEntry<A> => ({ name, queue });

const operation =
  <A extends unknown[]>() =>
  (e: {
    name: string;
    queue: QueueName;
    target: TargetType;
    steps: readonly string[] | ((args: A) => readonly string[]);
    kind?: (args: A) => string;
    /** Which argument is the operation id, when it is not the second. */
    operationId?: (args: A) => OperationId;
  }): OperationEntry<A> => {
    const steps = e.steps;
    return {
      name: e.name,
      queue: e.queue,
      target: e.target,
      kind: e.kind,
      steps: typeof steps === "function" ? steps : () => steps,
      operationId: e.operationId ?? ((args) => args[1] as OperationId),
    };
  };

/** A workflow that only tests register (test-only names must not collide with the catalog's). */
export const testWorkflow = <A extends unknown[]>(name: string, queue: QueueName = "nodes"): WorkflowEntry<A> => workflow<A>()(name, queue);

// ------------------------------------------------------------------------------------------------ step lists

export const CREATE_STEPS = [
  "reserve node",
  "allocate address",
  "clone system volume",
  "render cloud-init",
  "export target",
  "attach boot disk",
  "attach cloud-init seed",
  "create NIC with rules",
  "attach data volumes",
  "boot override to disk",
  "power on",
  "wait for OS",
  "mark running",
] as const;

export const DELETE_STEPS = [
  "power off",
  "detach from DPU",
  "delete exports and system volume",
  "release address and port",
  "clean node",
  "mark deleted",
] as const;

export const RECOVER_STEPS = [
  "fence old host",
  "detach from old DPU",
  "reserve spare host",
  "allocate address",
  "render cloud-init",
  "clone system volume",
  "export target",
  "attach boot disk",
  "attach cloud-init seed",
  "create NIC with rules",
  "attach data volumes",
  "boot override to disk",
  "power on",
  "wait for OS",
  "mark running",
] as const;

export const REBUILD_STEPS = [
  "power off",
  "detach old boot disk",
  "record new system volume",
  "attach new boot disk",
  "delete old system volume",
  "publish cloud-init and NIC",
  "boot override to disk",
  "power on",
  "wait for OS",
  "mark running",
] as const;

/** Rescue (server/workflows/instance-rescue.ts): the host boots a rescue image; the own disk is a data disk meanwhile. */
export const RESCUE_STEPS = [
  "clone rescue volume",
  "power off",
  "present rescue disks",
  "publish rescue cloud-init",
  "boot override to disk",
  "power on",
  "wait for OS",
  "mark rescue",
] as const;

export const UNRESCUE_STEPS = [
  "power off",
  "remove rescue disks",
  "attach own boot disk",
  "publish cloud-init",
  "boot override to disk",
  "power on",
  "wait for OS",
  "delete rescue volume",
  "mark running",
] as const;

export type InstancePowerRequest = "start" | "stop" | "reboot";
/** Who started a bulk enrollment (the rows' audit entries name them). */
export type BulkActor = { userId: string | null; email: string | null; requestId: string };

const POWER_STEPS: Record<InstancePowerRequest, (force: boolean) => string[]> = {
  start: () => ["boot override to disk", "power on", "wait for OS", "mark running"],
  stop: (force) => [force ? "power off" : "shut down", "mark stopped"],
  reboot: () => ["boot override to disk", "restart", "wait for OS", "mark running"],
};

// ------------------------------------------------------------------------------------------------ the catalog

export const catalog = {
  // Instances (server/workflows/instances.ts, instance-actions.ts, instance-rescue.ts, instance-recovery.ts).
  instanceCreate: operation<[instanceId: string, opId: OperationId]>()({
    name: "instance.create",
    queue: "instances",
    target: "instance",
    steps: CREATE_STEPS,
  }),
  instanceDelete: operation<[instanceId: string, opId: OperationId]>()({
    name: "instance.delete",
    queue: "instances",
    target: "instance",
    steps: DELETE_STEPS,
  }),
  instancePower: operation<[instanceId: string, opId: OperationId, action: InstancePowerRequest, force: boolean]>()({
    name: "instance.power",
    queue: "instances",
    target: "instance",
    kind: ([, , action]) => `instance.${action}`,
    steps: ([, , action, force]) => POWER_STEPS[action](force),
  }),
  instanceAttachVolume: operation<[instanceId: string, opId: OperationId, volumeId: string]>()({
    name: "instance.attach_volume",
    queue: "instances",
    target: "instance",
    steps: ["attach disk"],
  }),
  instanceDetachVolume: operation<[instanceId: string, opId: OperationId, volumeId: string]>()({
    name: "instance.detach_volume",
    queue: "instances",
    target: "instance",
    steps: ["detach disk"],
  }),
  instanceBackup: operation<[instanceId: string, opId: OperationId, imageName: string, includeDataVolumes: boolean]>()({
    name: "instance.backup",
    queue: "instances",
    target: "instance",
    steps: ([, , , includeDataVolumes]) => ["snapshot system disk", "make image", ...(includeDataVolumes ? ["snapshot data volumes"] : [])],
  }),
  instanceRebuild: operation<[instanceId: string, opId: OperationId, imageId: string, sizeGiB: number]>()({
    name: "instance.rebuild",
    queue: "instances",
    target: "instance",
    steps: REBUILD_STEPS,
  }),
  instanceRescue: operation<[instanceId: string, opId: OperationId, imageId: string, extraSshKeyIds: string[]]>()({
    name: "instance.rescue",
    queue: "instances",
    target: "instance",
    steps: RESCUE_STEPS,
  }),
  instanceUnrescue: operation<[instanceId: string, opId: OperationId]>()({
    name: "instance.unrescue",
    queue: "instances",
    target: "instance",
    steps: UNRESCUE_STEPS,
  }),
  instanceRecover: operation<[instanceId: string, opId: OperationId, reason: string]>()({
    name: "instance.recover",
    queue: "instances",
    target: "instance",
    steps: RECOVER_STEPS,
  }),
  instanceRecoveryCheck: workflow<[]>()("instance.recovery_check", "instances"),
  // NICs of a running or stopped instance (server/workflows/instance-nics.ts): the router records the port and its
  // address (so a taken address is a field error), the workflow puts the NIC on the DPU and the seed follows.
  instanceNicAttach: operation<[instanceId: string, opId: OperationId, portId: string]>()({
    name: "instance.nic_attach",
    queue: "instances",
    target: "instance",
    steps: ["reserve address", "create NIC", "update cloud-init", "mark attached"],
  }),
  instanceNicDetach: operation<[instanceId: string, opId: OperationId, portId: string]>()({
    name: "instance.nic_detach",
    queue: "instances",
    target: "instance",
    steps: ["remove NIC", "release address and port", "update cloud-init", "mark detached"],
  }),
  instanceNicMove: operation<[instanceId: string, opId: OperationId, portId: string, allocationId: string]>()({
    name: "instance.nic_move",
    queue: "instances",
    target: "instance",
    steps: ["reserve new address", "remove NIC", "switch subnet", "create NIC", "update cloud-init", "mark moved"],
  }),

  // Nodes (server/workflows/nodes.ts). Power steps are discovered at run time (they depend on the node's kind).
  nodeEnrollBulk: operation<[opId: OperationId, sealedCsv: string, actor: BulkActor]>()({
    name: "node.enroll_bulk",
    queue: "nodes",
    target: "node",
    steps: ["enroll rows"],
    operationId: ([op]) => op,
  }),
  nodeInspect: operation<[nodeId: string, opId: OperationId]>()({
    name: "node.inspect",
    queue: "nodes",
    target: "node",
    steps: ["read inventory", "discover DPUs", "record"],
  }),
  nodePower: operation<[nodeId: string, action: PowerAction, opId: OperationId, actorEmail: string | null]>()({
    name: "node.power",
    queue: "nodes",
    target: "node",
    steps: [],
    operationId: ([, , op]) => op,
  }),
  dpuFirmwareUpdate: operation<[dpuId: string, imageUri: string, targets: string[], opId: OperationId]>()({
    name: "dpu.firmware_update",
    queue: "nodes",
    target: "node",
    steps: ["start update", "apply", "read new versions"],
    operationId: ([, , , op]) => op,
  }),

  // Boot a host once from an ISO through Redfish VirtualMedia (server/workflows/virtual-media.ts).
  nodeVirtualMediaBoot: operation<[nodeId: string, imageUrl: string, opId: OperationId]>()({
    name: "node.virtual_media_boot",
    queue: "nodes",
    target: "node",
    steps: ["insert image", "boot from CD once", "power on or reset", "wait for the boot", "eject image"],
    operationId: ([, , op]) => op,
  }),

  // A rolling DPU OS update across hosts (server/workflows/rollouts.ts): its progress is the rollout's own rows (one per
  // host), not an operation; each DPU's update is a dpu.firmware_update operation it starts. One run at a time per
  // rollout (rollouts.run_active); a resume after a pause starts a new run.
  rolloutRun: workflow<[rolloutId: string]>()("rollout.run", "nodes"),

  // Background work (server/workflows/sync.ts, webhooks.ts).
  syncShard: workflow<[shard: number, spreadMs: number]>()("sync.shard", "sync"),
  webhookDeliver: workflow<[deliveryId: string]>()("webhook.deliver", "webhooks"),

  // Live security rules (server/workflows/rules.ts): a pass after a change, or the sweep's (which also audits agents).
  rulesReconcile: workflow<[mode: "change" | "sweep"]>()("rules.reconcile", "rules"),
  // The VXLAN overlay (server/workflows/overlay.ts): a pass after an instance change, or the sweep's (audits agents).
  overlayReconcile: workflow<[mode: "change" | "sweep"]>()("overlay.reconcile", "overlay"),
} as const;

/** Periodic workflows, by schedule name (the engine registers each as workflow `schedule.<name>` on the sync queue). */
export const schedules = {
  bmcSync: { schedule: "bmc-sync" },
  instanceRecovery: { schedule: "instance-recovery" },
  storageReconcile: { schedule: "storage-reconcile" },
  webhookDispatch: { schedule: "webhook-dispatch" },
  rulesSweep: { schedule: "rules-sweep" },
  overlaySweep: { schedule: "overlay-sweep" },
} as const satisfies Record<string, ScheduleEntry>;

export type Catalog = typeof catalog;
