// Recovery against the real lab and engine: a host whose BMC stops answering is found faulty by the real sync, the
// recovery check starts instance.recover, the old host is fenced and the instance comes back on a spare host with
// the same MAC and address (one address allocation, the same system volume); events on both hosts. Also: no spare
// (failed, nothing released, recovers once a host is free), the operator's manual recover, retry of a failed create,
// and abort of a running create (rolled back, nothing leaked).
import { and, eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import * as s from "@/db/schema";
import { getStorage } from "@/server/storage/backend";
import { useTestDb } from "@/test/db";
import { instanceInput, useEngineLab } from "@/test/engine";
import { callerAs, instanceRow, nodeRow } from "@/test/fixtures";
import { agentFaults, systemVolumesOf, waitOperation } from "@/test/instance-lab";
import { getEngine } from "./engine";
import { catalog } from "./catalog";
import { enqueue } from "./start";
import { recoveryCandidates, startRecovery } from "./recovery-start";
import { syncShard } from "./sync";
import { bmcAdmin } from "@/test/bmc-admin";

const db = useTestDb();
const { fx, L } = useEngineLab({ executor: "recover", hosts: 3, env: { ANVIL_BMC_TIMEOUT_MS: "2000" } });

const tenant = () => callerAs(fx, "tenantMember");
const admin = () => callerAs(fx, "operatorAdmin");
const labName = (nodeId: string) => [...L.hosts.entries()].find(([, id]) => id === nodeId)![0];

const create = (extra: Record<string, unknown> = {}) => tenant().instances.create(instanceInput(fx, L, extra));
/** Puts a node (and its DPU) back to a usable, available state after a test fenced it. */
async function repair(nodeId: string) {
  await bmcAdmin(L.lab.redfish, "DELETE", `${labName(nodeId)}/faults`).catch(() => undefined);
  await db.update(s.nodes).set({ fault: null, provisionState: "available", lastError: null }).where(eq(s.nodes.id, nodeId));
  await db.update(s.nodes).set({ fault: null }).where(eq(s.nodes.parentNodeId, nodeId));
}

describe("instance recovery", () => {
  it("brings an instance whose host's BMC died back on a spare with the same MAC and address", async () => {
    const r = await create({ recoveryPolicy: "reprovision" });
    expect((await waitOperation(db, r.operationId)).status).toBe("succeeded");
    const before = await tenant().instances.get({ tenant: fx.tenant.slug, id: r.id });
    const oldHost = (await instanceRow(db, r.id)).nodeId!;
    const sysBefore = (await instanceRow(db, r.id)).storageVolumeId;

    await bmcAdmin(L.lab.redfish, "PUT", `${labName(oldHost)}/faults`, { unreachable: true });
    await syncShard((await nodeRow(db, oldHost)).syncShard, 0);
    expect((await nodeRow(db, oldHost)).fault).toMatch(/^BMC unreachable/);
    const found = await recoveryCandidates();
    expect(found.map((c) => c.id)).toContain(r.id);
    // The scheduled check's own workflow starts the recovery (what the schedule runs every few seconds).
    const check = await enqueue(catalog.instanceRecoveryCheck, []);
    expect(await getEngine().result(check)).toBe(1);
    const opId = (await instanceRow(db, r.id)).operationId;
    expect((await instanceRow(db, r.id)).state).toMatch(/recovering|running/);
    // A second tick finds it no longer running: never two recoveries.
    expect(await startRecovery(r.id, "again", "automatic recovery")).toBeNull();
    const op = await waitOperation(db, opId!, 60_000);
    expect(op.error).toBeNull();
    expect(op.status).toBe("succeeded");

    const after = await tenant().instances.get({ tenant: fx.tenant.slug, id: r.id });
    expect(after.state).toBe("running");
    expect(after.address).toBe(before.address);
    expect(after.mac).toBe(before.mac);
    const inst = await instanceRow(db, r.id);
    expect(inst.nodeId).not.toBe(oldHost);
    expect(inst.storageVolumeId).toBe(sysBefore);
    expect(await db.select().from(s.ipAllocations).where(eq(s.ipAllocations.tenantId, fx.tenant.id))).toHaveLength(1);
    expect((await nodeRow(db, oldHost)).provisionState).toBe("error");
    expect((await nodeRow(db, inst.nodeId!)).provisionState).toBe("active");
    // The volume is exported to the new DPU only.
    const targets = (await getStorage().listTargets({ volumeId: sysBefore! })).items;
    const [newDpu] = await db
      .select()
      .from(s.nodes)
      .where(and(eq(s.nodes.parentNodeId, inst.nodeId!), eq(s.nodes.kind, "dpu")));
    expect(targets.map((t) => t.initiator)).toEqual([`nqn.2014-08.io.anvil:dpu:${newDpu!.id}`]);
    // Operators see the recovery on both hosts.
    const oldEvents = await db.select().from(s.hardwareEvents).where(eq(s.hardwareEvents.nodeId, oldHost));
    expect(oldEvents.map((e) => e.message).join("\n")).toMatch(/Fenced for the recovery of instance .*BMC unreachable \(.*\); host marked fenced/);
    const newEvents = await db.select().from(s.hardwareEvents).where(eq(s.hardwareEvents.nodeId, inst.nodeId!));
    expect(newEvents.some((e) => e.message.startsWith(`Instance ${inst.name} recovered onto this host from `))).toBe(true);

    const d = await tenant().instances.delete({ tenant: fx.tenant.slug, id: r.id });
    expect((await waitOperation(db, d.operationId)).status).toBe("succeeded");
    await repair(oldHost);
  });

  it("with no spare host: failed with the reason, volumes and address kept; recovers once a host is free", async () => {
    const r = await create();
    expect((await waitOperation(db, r.operationId)).status).toBe("succeeded");
    const hostId = (await instanceRow(db, r.id)).nodeId!;
    const others = [...L.hosts.values()].filter((h) => h !== hostId);
    await db.update(s.nodes).set({ maintenance: true }).where(eq(s.nodes.id, others[0]!));
    await db.update(s.nodes).set({ maintenance: true }).where(eq(s.nodes.id, others[1]!));
    const address = (await tenant().instances.get({ tenant: fx.tenant.slug, id: r.id })).address;
    try {
      const { operationId } = await admin().instances.recover({ id: r.id, reason: "testing" });
      const op = await waitOperation(db, operationId, 60_000);
      expect(op.status).toBe("failed");
      expect(op.error).toMatch(/No spare host in pool .*The instance's volumes and address are kept/);
      const inst = await instanceRow(db, r.id);
      expect(inst.state).toBe("failed");
      expect(inst.portId).toBeTruthy();
      expect(inst.storageVolumeId).toBeTruthy();
      expect(await systemVolumesOf(r.id)).toHaveLength(1);
      // An operator frees a host and retries: the same address again.
      await db.update(s.nodes).set({ maintenance: false }).where(eq(s.nodes.id, others[0]!));
      const again = await admin().operations.retry({ id: operationId });
      expect((await waitOperation(db, again.operationId, 60_000)).status).toBe("succeeded");
      const got = await tenant().instances.get({ tenant: fx.tenant.slug, id: r.id });
      expect(got.state).toBe("running");
      expect(got.address).toBe(address);
    } finally {
      await db.update(s.nodes).set({ maintenance: false }).where(eq(s.nodes.poolId, L.poolId));
    }
    const d = await tenant().instances.delete({ tenant: fx.tenant.slug, id: r.id });
    expect((await waitOperation(db, d.operationId)).status).toBe("succeeded");
    await repair(hostId);
  });

  it("refuses a recover of an instance still creating, and to anyone but an operator admin", async () => {
    const r = await create();
    await expect(admin().instances.recover({ id: r.id })).rejects.toThrow(/creating; wait/);
    await expect(callerAs(fx, "operatorViewer").instances.recover({ id: r.id })).rejects.toThrow();
    expect((await waitOperation(db, r.operationId)).status).toBe("succeeded");
    const d = await tenant().instances.delete({ tenant: fx.tenant.slug, id: r.id });
    expect((await waitOperation(db, d.operationId)).status).toBe("succeeded");
  });
});

describe("operator retry and abort", () => {
  it("retries a create that failed on an agent fault, once the fault is gone", async () => {
    await agentFaults(L, { failAlways: ["createNic"] });
    const r = await create();
    const failed = await waitOperation(db, r.operationId);
    await agentFaults(L, { failAlways: [] });
    expect(failed.status).toBe("failed");
    await expect(admin().operations.abort({ id: r.operationId })).rejects.toThrow(/already ended \(failed\)/);
    const again = await admin().operations.retry({ id: r.operationId });
    expect((await waitOperation(db, again.operationId)).status).toBe("succeeded");
    expect((await instanceRow(db, r.id)).state).toBe("running");
    await expect(admin().operations.retry({ id: r.operationId })).rejects.toThrow(/not failed|newer operation/);
    const d = await tenant().instances.delete({ tenant: fx.tenant.slug, id: r.id });
    expect((await waitOperation(db, d.operationId)).status).toBe("succeeded");
  });

  it("aborts a running create (slow BMCs): rolled back, the host back in the pool, nothing leaked", async () => {
    // Every BMC request takes 1.5 s, so the create is still at work when the abort arrives.
    for (const name of L.hosts.keys()) await bmcAdmin(L.lab.redfish, "PUT", `${name}/faults`, { latencyMs: 1500 });
    try {
      const r = await create();
      const t0 = Date.now();
      for (;;) {
        const [op] = await db.select().from(s.operations).where(eq(s.operations.id, r.operationId));
        if (op!.steps.some((st) => st.name === "reserve node" && st.status === "done")) break;
        if (Date.now() - t0 > 20_000) throw new Error(`create never reserved a node: ${JSON.stringify(op!.steps)}`);
        await new Promise((res) => setTimeout(res, 25));
      }
      const hostId = (await instanceRow(db, r.id)).nodeId!;
      await admin().operations.abort({ id: r.operationId });
      await expect(admin().operations.abort({ id: r.operationId })).rejects.toThrow(/already requested/);
      const op = await waitOperation(db, r.operationId, 60_000);
      expect(op.status).toBe("cancelled");
      expect(op.error).toBe("Aborted by an operator.");
      expect(op.steps.map((st) => st.name)).toContain("rollback: clean node");
      const inst = await instanceRow(db, r.id);
      expect(inst.state).toBe("failed");
      expect([inst.nodeId, inst.portId, inst.storageVolumeId].filter(Boolean)).toEqual([]);
      expect((await nodeRow(db, hostId)).provisionState).toBe("available");
      expect(await systemVolumesOf(r.id)).toHaveLength(0);
      const d = await tenant().instances.delete({ tenant: fx.tenant.slug, id: r.id });
      expect((await waitOperation(db, d.operationId, 60_000)).status).toBe("succeeded");
    } finally {
      for (const name of L.hosts.keys()) await bmcAdmin(L.lab.redfish, "DELETE", `${name}/faults`);
    }
  }, 90_000);
});
