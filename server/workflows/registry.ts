// Every durable workflow and schedule Anvil runs, handed to startEngine by the process that runs them (server/runtime.ts,
// the test worker, tests): importing a module defines its workflows (registration order does not matter; names do —
// they are stored with each run, and the catalog, ./catalog.ts, fixes them). The engine imports no workflow module.
import type { WorkflowRegistry } from "./engine";
import { attachVolumeWorkflow, backupInstance, detachVolumeWorkflow, rebuildInstance } from "./instance-actions";
import { attachNicWorkflow, detachNicWorkflow, moveNicWorkflow } from "./instance-nics";
import { rescueInstance, unrescueInstance } from "./instance-rescue";
import { recoverInstance, recoveryCheckWorkflow, recoverySchedule } from "./instance-recovery";
import { createInstance, deleteInstance, powerInstance } from "./instances";
import { storageReconcileSchedule } from "./maintenance";
import { bulkEnroll, firmwareUpdate, forgetFinishedBulkEnrolls, inspectNode, powerNode } from "./nodes";
import { overlayReconcileWorkflow, overlaySweepSchedule } from "./overlay";
import { rolloutRun } from "./rollouts";
import { rulesReconcileWorkflow, rulesSweepSchedule } from "./rules";
import { bmcSyncSchedule, syncShardWorkflow } from "./sync";
import { virtualMediaBoot } from "./virtual-media";
import { deliverWebhook, webhookDispatchSchedule } from "./webhooks";

export const workflows: WorkflowRegistry = {
  workflows: [
    createInstance,
    deleteInstance,
    powerInstance,
    attachVolumeWorkflow,
    detachVolumeWorkflow,
    backupInstance,
    rebuildInstance,
    rescueInstance,
    unrescueInstance,
    recoverInstance,
    recoveryCheckWorkflow,
    attachNicWorkflow,
    detachNicWorkflow,
    moveNicWorkflow,
    bulkEnroll,
    inspectNode,
    powerNode,
    firmwareUpdate,
    virtualMediaBoot,
    rolloutRun,
    syncShardWorkflow,
    deliverWebhook,
    rulesReconcileWorkflow,
    overlayReconcileWorkflow,
  ],
  schedules: [bmcSyncSchedule, recoverySchedule, storageReconcileSchedule, webhookDispatchSchedule, rulesSweepSchedule, overlaySweepSchedule],
  // Finished bulk enrollments leave the engine's tables (older ones hold their CSV, passwords and all, in plaintext).
  onLaunch: [forgetFinishedBulkEnrolls],
};
