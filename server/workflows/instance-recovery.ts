// Recovery of an instance whose host failed: fence the old host (power it off through its BMC, or write it off when
// the BMC is unreachable), take the instance's exports and DPU objects off the old side, reserve a spare host of the
// same pool and attach the SAME system volume, data volumes, cloud-init seed and NIC (the port row is kept, so the
// MAC and address do not change) through the spare's DPU, then boot it. Started automatically for running instances
// with recovery policy "reprovision" whose host is faulty (BMC unreachable, critical health, DPU agent lost — the
// faults the sync workflow raises), and by operators on demand. Every recovery is an event on both hosts.
import { and, eq } from "drizzle-orm";
import { getDb } from "@/db/client";
import { instances, nodes, operations, ports } from "@/db/schema";
import { catalog, schedules } from "./catalog";
import { defineSchedule, defineWorkflow, step } from "./engine";
import { defineSaga } from "./saga";
import { recordEvent } from "./events";
import {
  agentFor,
  attachDataVolumes,
  attachNetwork,
  attachSystemDisk,
  bootOverride,
  cleanNode,
  detachFromDpu,
  loadInstance,
  nodeEvent,
  placement,
  powerOff,
  powerOn,
  reserve,
  settled,
  unexport,
  waitForOsStep,
} from "./instances";
import { finishOperation, opStep } from "./operations";
import { applyOverlaySoon } from "@/server/services/overlay-apply";
import { enqueueRecovery, prepareRecovery, recoveryCandidates } from "./recovery-start";
import { applyInstanceEvent } from "@/server/services/instance-state";

export const recoverInstance = defineSaga(catalog.instanceRecover, {
  async run(saga, instanceId, opId, reason) {
    const db = saga.db;
    const old = await saga.step("fence old host", async () => {
      const inst = await loadInstance(instanceId);
      if (!inst.nodeId) return null;
      const [host] = await db.select().from(nodes).where(eq(nodes.id, inst.nodeId));
      if (!host) return null;
      const how = await powerOff(host, true);
      const [dpu] = await db
        .select({ id: nodes.id })
        .from(nodes)
        .where(and(eq(nodes.parentNodeId, host.id), eq(nodes.kind, "dpu")));
      await recordEvent(db, host.id, { kind: "fault", severity: "critical", message: `Fenced for the recovery of instance ${inst.name} (${reason}): ${how}.` });
      return { hostId: host.id, hostName: host.name, dpuId: dpu?.id ?? null, how };
    });
    await saga.step("detach from old DPU", async () => {
      if (!old) return "no old host";
      const inst = await loadInstance(instanceId);
      let dpuNote = "no DPU";
      if (inst.nodeId === old.hostId) {
        const pl = await placement(inst).catch(() => null);
        // The old DPU may be dead: best effort with a short budget; its functions are reset when the host is cleaned.
        if (pl)
          dpuNote = await detachFromDpu(
            instanceId,
            { ...pl, agent: agentFor({ agentUrl: pl.dpu.agentUrl, agentToken: pl.dpu.agentToken }, { timeoutMs: 3000, retries: 0 }) },
            true,
          );
      }
      // The exports to the old DPU go: nothing may keep writing to the volumes once the spare has them.
      await unexport(instanceId, old.dpuId, false);
      await db.transaction(async (tx) => {
        const [n] = await tx.select({ s: nodes.provisionState }).from(nodes).where(eq(nodes.id, old.hostId)).for("update");
        if (n?.s === "active") await nodeEvent(tx, old.hostId, "fenced", { lastError: `Fenced: ${reason}` });
        await tx.update(ports).set({ nodeId: null, dpuFunction: null }).where(eq(ports.nodeId, old.hostId));
        await tx
          .update(instances)
          .set({ nodeId: null })
          .where(and(eq(instances.id, instanceId), eq(instances.nodeId, old.hostId)));
      });
      return dpuNote;
    });
    const spare = await saga.step(
      "reserve spare host",
      () =>
        reserve(instanceId).catch((e: Error) => {
          throw new Error(
            `${e.message.replace(/^No free host/, "No spare host")} The instance's volumes and address are kept; recover it again when a host is free.`,
          );
        }),
      {
        // The spare goes back to the pool; the instance keeps its volumes and port for the next attempt.
        undo: {
          name: "release spare host",
          bestEffort: true,
          fn: async () => {
            const inst = await loadInstance(instanceId);
            const pl = await placement(inst).catch(() => null);
            if (pl) await detachFromDpu(instanceId, pl, true);
            await unexport(instanceId, pl?.dpu.id ?? null, false);
            if (pl) await powerOff(pl.host, true);
            return cleanNode(instanceId);
          },
        },
      },
    );
    await step("describe", async () => {
      await db
        .update(operations)
        .set({ result: { from: old?.hostName ?? null, to: spare.hostName } })
        .where(eq(operations.id, opId));
    });
    await settled([
      step("network", () => attachNetwork(instanceId, opId)),
      step("system disk", () => attachSystemDisk(instanceId, opId)),
      step("data volumes", () => attachDataVolumes(instanceId, opId)),
      opStep(db, opId, "boot override to disk", () => bootOverride(instanceId)),
    ]);
    await saga.step("power on", () => powerOn(instanceId));
    await waitForOsStep(db, opId, instanceId);
    await saga.step("mark running", async () => {
      const inst = await loadInstance(instanceId);
      await db.transaction(async (tx) => {
        const [n] = await tx.select({ s: nodes.provisionState }).from(nodes).where(eq(nodes.id, spare.hostId)).for("update");
        if (n?.s === "deploying") await nodeEvent(tx, spare.hostId, "deployed");
        await applyInstanceEvent(tx, instanceId, "recovered");
        await recordEvent(tx, spare.hostId, {
          kind: "lifecycle",
          severity: "info",
          message: `Instance ${inst.name} recovered onto this host${old ? ` from ${old.hostName}` : ""} (${reason}).`,
        });
        if (old)
          await recordEvent(tx, old.hostId, {
            kind: "lifecycle",
            severity: "warning",
            message: `Instance ${inst.name} recovered onto ${spare.hostName}; this host stays fenced (error) until an operator deals with it.`,
          });
      });
      await finishOperation(db, opId, "succeeded", { result: { from: old?.hostName ?? null, to: spare.hostName, fenced: old?.how ?? null } });
    });
    // The VNI's DPUs swap the old DPU's VTEP for the spare's.
    await applyOverlaySoon();
  },
  async failed({ reason }, instanceId) {
    await applyInstanceEvent(getDb(), instanceId, "recover_failed", { reason: `Recovery failed: ${reason}` });
  },
});

const RECOVERY_CHECK_S = Math.max(1, Math.min(59, Number(process.env.ANVIL_RECOVERY_CHECK_S ?? 5)));
/** One pass of the recovery check: every faulty host under a reprovision instance gets its recovery started. */
async function recoveryCheck(): Promise<number> {
  const found = await step("find faulty hosts", recoveryCandidates);
  let started = 0;
  for (const c of found) {
    const reason = `host fault: ${c.fault}`;
    // The state flip is a step; starting the recovery workflow happens in this workflow, not inside a step.
    const opId = await step(`prepare recovery ${c.id}`, () => prepareRecovery(c.id, reason, "automatic recovery"));
    if (opId) {
      await enqueueRecovery(c.id, opId, reason);
      started++;
    }
  }
  return started;
}

/** The same pass on demand (tests, or an operator who does not want to wait for the next tick). */
export const recoveryCheckWorkflow = defineWorkflow(catalog.instanceRecoveryCheck, recoveryCheck);
export const recoverySchedule = defineSchedule(schedules.instanceRecovery, `*/${RECOVERY_CHECK_S} * * * * *`, async () => {
  await recoveryCheck();
});
