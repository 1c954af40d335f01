// Rescue and unrescue of a tenant's instance. Rescue boots the host from a fresh clone of a rescue image, with the
// instance's own system disk presented through the DPU as a SECOND (data) disk and a cloud-init seed carrying the
// tenant's SSH keys and a hostname marking rescue: the tenant repairs the disk from a working OS. The own disk is
// never written by Anvil meanwhile. Unrescue puts the own disk back as the boot disk, boots it and deletes the rescue
// volume. Same rules as the other instance workflows: idempotent pieces, undos declared beside their steps, progress
// on the operation.
import { and, eq, inArray } from "drizzle-orm";
import { getDb } from "@/db/client";
import { images, instances, nodes, sshKeys, volumeAttachments, volumes } from "@/db/schema";
import { GiB } from "@/db/validation/storage";
import { isStorageError } from "@/server/drivers/storage/client";
import { getStorage, tenantNamespace } from "@/server/storage/backend";
import { applyInstanceEvent } from "@/server/services/instance-state";
import type { ProvisionState } from "@/domain/node-lifecycle";
import { catalog } from "./catalog";
import { defineSaga } from "./saga";
import {
  agentNames,
  attachSystemDisk,
  bootOverride,
  deleteRescueVolume,
  diskSpec,
  exportTo,
  instanceSeed,
  loadInstance,
  nodeEvent,
  placement,
  powerOff,
  powerOn,
  ProvisionError,
  publishSeed,
  waitForOsStep,
} from "./instances";
import { finishOperation } from "./operations";

/** The hostname a rescued instance's seed gives it, so the tenant sees at the prompt that this is the rescue OS. */
export const rescueHostname = (name: string) => `${name}-rescue`.slice(0, 63);

async function placed(instanceId: string) {
  const pl = await placement(await loadInstance(instanceId));
  if (!pl) throw new ProvisionError("The instance holds no host.");
  return pl;
}

/** The instance's own system volume: its record (the DPU data-disk name is derived from it) and storage id. */
async function ownSystemVolume(instanceId: string) {
  const [row] = await getDb()
    .select({ id: volumes.id, storageVolumeId: volumes.storageVolumeId })
    .from(volumeAttachments)
    .innerJoin(volumes, eq(volumes.id, volumeAttachments.volumeId))
    .where(and(eq(volumeAttachments.instanceId, instanceId), eq(volumes.kind, "system")));
  if (!row?.storageVolumeId) throw new ProvisionError("The instance has no system volume to rescue.");
  return { id: row.id, storageVolumeId: row.storageVolumeId };
}

/** Takes the rescue boot disk and the own disk's data-disk presentation off the DPU, and the rescue volume's exports. */
async function removeRescueDisks(instanceId: string): Promise<string> {
  const pl = await placed(instanceId);
  const own = await ownSystemVolume(instanceId);
  await pl.agent.deleteDisk(agentNames.data(own.id));
  const [row] = await getDb().select({ rescue: instances.rescueStorageVolumeId }).from(instances).where(eq(instances.id, instanceId));
  // The boot disk is the rescue one only while a rescue volume is recorded and exported; the own boot disk is never
  // removed here (a rescue that failed before swapping leaves the host on its own disk).
  const storage = getStorage();
  const rescueTargets = row?.rescue ? (await storage.listTargets({ volumeId: row.rescue })).items : [];
  if (rescueTargets.length) {
    await pl.agent.deleteDisk(agentNames.boot(instanceId));
    for (const t of rescueTargets)
      await storage.deleteTarget(t.id).catch((e) => {
        if (!(isStorageError(e) && e.status === 404)) throw e;
      });
  }
  return rescueTargets.length ? "rescue disk removed" : "no rescue disk presented";
}

/** The own disk back as the boot disk, with the instance's own seed. */
async function restoreOwnDisks(instanceId: string): Promise<string> {
  await removeRescueDisks(instanceId);
  await attachSystemDisk(instanceId, null);
  await publishSeed(instanceId, await placed(instanceId));
  return "own disk is the boot disk again";
}

/** Applies a node lifecycle event when the host is in the state it leaves from (a re-run finds it done). */
async function hostEvent(instanceId: string, from: ProvisionState, event: "rescue" | "unrescue") {
  const inst = await loadInstance(instanceId);
  if (!inst.nodeId) return;
  await getDb().transaction(async (tx) => {
    const [n] = await tx.select({ s: nodes.provisionState }).from(nodes).where(eq(nodes.id, inst.nodeId!)).for("update");
    if (n?.s === from) await nodeEvent(tx, inst.nodeId!, event);
  });
}

export const rescueInstance = defineSaga(catalog.instanceRescue, {
  async run(saga, instanceId, opId, imageId, extraSshKeyIds) {
    const db = saga.db;
    await saga.step(
      "clone rescue volume",
      async () => {
        const inst = await loadInstance(instanceId);
        if (inst.rescueStorageVolumeId) return inst.rescueStorageVolumeId;
        const [image] = await db.select().from(images).where(eq(images.id, imageId));
        if (!image?.storageSnapshotId || image.state !== "available") throw new ProvisionError("The rescue image is no longer available; pick another.");
        const v = await getStorage().cloneVolume(
          {
            name: `rescue-${instanceId}-${opId.slice(0, 8)}`,
            sourceSnapshotId: image.storageSnapshotId,
            sizeBytes: image.minSizeGiB * GiB,
            namespace: tenantNamespace(inst.tenantId),
          },
          { idempotencyKey: `instance-rescue-${opId}` },
        );
        await db.update(instances).set({ rescueStorageVolumeId: v.id }).where(eq(instances.id, instanceId));
        return v.id;
      },
      { undo: { name: "delete rescue volume", fn: () => deleteRescueVolume(instanceId) }, undoIfFailed: true },
    );
    await saga.step("power off", async () => powerOff((await placed(instanceId)).host), {
      undo: {
        name: "boot own disk again",
        fn: async () => {
          await bootOverride(instanceId);
          await powerOn(instanceId);
          return "booting its own disk";
        },
      },
      undoIfFailed: true,
    });
    await saga.step(
      "present rescue disks",
      async () => {
        const pl = await placed(instanceId);
        const own = await ownSystemVolume(instanceId);
        const inst = await loadInstance(instanceId);
        if (!inst.rescueStorageVolumeId) throw new ProvisionError("The rescue volume is gone.");
        // The own disk's export to this DPU stays (the same target serves it as a data disk); only the agent's boot
        // function goes, and the rescue volume takes its place.
        await pl.agent.deleteDisk(agentNames.boot(instanceId));
        const rescue = await exportTo(inst.rescueStorageVolumeId, pl.dpu.id);
        await pl.agent.putDisk(agentNames.boot(instanceId), await diskSpec(rescue, pl.dpu.id, "boot"));
        const ownTarget = await exportTo(own.storageVolumeId, pl.dpu.id);
        await pl.agent.putDisk(agentNames.data(own.id), await diskSpec(ownTarget, pl.dpu.id, "data"));
        return "rescue disk boots; own disk attached as a data disk";
      },
      { undo: { name: "restore own boot disk", fn: () => restoreOwnDisks(instanceId) }, undoIfFailed: true },
    );
    await saga.step("publish rescue cloud-init", async () => {
      const inst = await loadInstance(instanceId);
      const own = await instanceSeed(instanceId);
      // The router checked the extra keys are the caller's own (as the create does with the instance's).
      const extra = extraSshKeyIds.length
        ? await db.select({ k: sshKeys.publicKey, c: sshKeys.comment }).from(sshKeys).where(inArray(sshKeys.id, extraSshKeyIds))
        : [];
      const keys = [...((own.metaData["public-keys"] as string[] | undefined) ?? []), ...extra.map((k) => (k.c ? `${k.k} ${k.c}` : k.k))];
      // A fresh instance-id: cloud-init on the rescue disk runs its first boot with these keys. No user data: the
      // instance's own script is for its own OS, not the rescue one.
      const seed = {
        ...own,
        userData: "",
        metaData: { ...own.metaData, "instance-id": `${instanceId}-rescue`, "local-hostname": rescueHostname(inst.name), "public-keys": [...new Set(keys)] },
      };
      const pl = await placed(instanceId);
      const name = agentNames.seed(instanceId);
      await pl.agent.deleteCidata(name);
      await pl.agent.putCidata(name, seed);
      return `${new Set(keys).size} SSH key(s)`;
    });
    await saga.step("boot override to disk", () => bootOverride(instanceId), { retries: 2 });
    await saga.step("power on", () => powerOn(instanceId));
    await waitForOsStep(db, opId, instanceId, { abortable: true });
    await saga.step("mark rescue", async () => {
      await hostEvent(instanceId, "active", "rescue");
      await applyInstanceEvent(db, instanceId, "rescued");
      await finishOperation(db, opId, "succeeded", { result: { imageId } });
    });
  },
  async failed({ reason, undone, undoError }, instanceId) {
    if (!undoError && undone.includes("delete rescue volume")) {
      await applyInstanceEvent(getDb(), instanceId, "rescue_reverted", { reason: `Rescue failed: ${reason} The instance runs on its own disk as before.` });
      return;
    }
    await applyInstanceEvent(getDb(), instanceId, "rescue_failed", {
      reason: `Rescue failed: ${reason}${undoError ? ` Putting the own disk back also failed: ${undoError}` : ""} Delete the instance or ask an operator.`,
    });
  },
});

export const unrescueInstance = defineSaga(catalog.instanceUnrescue, {
  async run(saga, instanceId, opId) {
    const db = saga.db;
    await saga.step("power off", async () => powerOff((await placed(instanceId)).host));
    await saga.step("remove rescue disks", () => removeRescueDisks(instanceId));
    await saga.step("attach own boot disk", () => attachSystemDisk(instanceId, null));
    await saga.step("publish cloud-init", async () => publishSeed(instanceId, await placed(instanceId)));
    await saga.step("boot override to disk", () => bootOverride(instanceId), { retries: 2 });
    await saga.step("power on", () => powerOn(instanceId));
    await waitForOsStep(db, opId, instanceId);
    await saga.step("delete rescue volume", () => deleteRescueVolume(instanceId));
    await saga.step("mark running", async () => {
      await hostEvent(instanceId, "rescue", "unrescue");
      await applyInstanceEvent(db, instanceId, "unrescued");
      await finishOperation(db, opId, "succeeded");
    });
  },
  async failed({ reason }, instanceId) {
    await applyInstanceEvent(getDb(), instanceId, "unrescue_failed", {
      reason: `Unrescue failed: ${reason} Nothing is lost (the rescue volume is kept until it succeeds); try Unrescue again, or delete the instance.`,
    });
  },
});
