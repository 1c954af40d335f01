// Hardware management end to end against the lab's Redfish simulator and a real Postgres + workflow engine:
// enroll (probe first, nothing half-enrolled), inspect with DPU discovery, power with parent/child coupling,
// power/health sync raising and clearing faults, DPU firmware update with task progress, bulk CSV enroll, delete;
// the management-network policy refusing probe, enroll, bulk rows and firmware image URLs outside it (the suite runs
// with ANVIL_MGMT_ALLOW=127.0.0.0/8, the lab's loopback, from vitest.config.ts).
import { and, eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as s from "@/db/schema";
import { type RedfishSim, startRedfishSim } from "@/sim/redfish";
import { releaseStaleAddresses, useTestDb } from "@/test/db";
import { useEngine } from "@/test/engine";
import { waitOperation } from "@/test/instance-lab";
import { callerAs } from "@/test/fixtures";
import { syncShard } from "./sync";
import { bmcAdmin } from "@/test/bmc-admin";

let sim: RedfishSim;
const db = useTestDb();

beforeAll(async () => {
  sim = await startRedfishSim({ hosts: 6, powerTransitionMs: 60, bootMs: 50, updateMs: 300, dedicatedDpuPower: (i) => i === 5 });
  await releaseStaleAddresses(
    db,
    sim.bmcs.map((b) => b.url),
  );
});
afterAll(async () => {
  await sim?.close();
});
const fx = useEngine("hw");

const admin = () => callerAs(fx, "operatorAdmin");
const host = (i: number) => sim.byId(`node-000${i}`)!;
const dpu = (i: number) => sim.byId(`node-000${i}-dpu`)!;

const waitOp = (id: string) => waitOperation(db, id);

async function nodeByName(name: string) {
  const [n] = await db.select().from(s.nodes).where(eq(s.nodes.name, name));
  return n!;
}

describe("enrollment", () => {
  it("enrolls a host with its DPU BMC after probing both; credentials stay sealed", async () => {
    const h = host(1);
    const r = await admin().nodes.enroll({
      name: "hw-1",
      driver: "redfish",
      address: h.url,
      username: h.username,
      password: h.password,
      verifyTls: false,
      dpu: { address: dpu(1).url, username: dpu(1).username, password: dpu(1).password },
    });
    expect(r.ok).toBe(true);
    const n = await nodeByName("hw-1");
    expect(n.provisionState).toBe("manageable");
    expect(n.bmcCredentials).not.toContain(h.password);
    const kids = await db.select().from(s.nodes).where(eq(s.nodes.parentNodeId, n.id));
    expect(kids.map((k) => [k.name, k.kind])).toEqual([["hw-1-dpu", "dpu"]]);
    const listed = await admin().nodes.list({ q: "hw-1" });
    expect(listed.items.map((i) => i.name)).toEqual(["hw-1"]); // children hidden by default
    const withKids = await admin().nodes.list({ q: "hw-1", includeChildren: true });
    expect(withKids.items.map((i) => i.name).sort()).toEqual(["hw-1", "hw-1-dpu"]);
    const detail = await admin().nodes.get({ id: n.id });
    expect(detail.children.map((c) => c.name)).toEqual(["hw-1-dpu"]);
    expect(JSON.stringify(detail)).not.toContain(h.password);
    expect(detail).not.toHaveProperty("bmcCredentials");
  });

  it("refuses wrong credentials, an unreachable address, a duplicate BMC and a DPU posing as a host — enrolling nothing", async () => {
    const h = host(2);
    const before = (await db.select().from(s.nodes)).length;
    const wrong = await admin()
      .nodes.enroll({ name: "hw-bad", driver: "redfish", address: h.url, username: "admin", password: "nope" })
      .catch((e) => e);
    expect(wrong.code).toBe("BAD_REQUEST");
    expect(wrong.message).toMatch(/refused the credentials/);
    expect(wrong.cause?.field).toBe("address");
    const unreachable = await admin()
      .nodes.enroll({ name: "hw-bad", driver: "redfish", address: "http://127.0.0.1:1", username: "a", password: "b" })
      .catch((e) => e);
    expect(unreachable.message).toMatch(/No BMC answers at http:\/\/127\.0\.0\.1:1/);
    const dup = await admin()
      .nodes.enroll({ name: "hw-dup", driver: "redfish", address: host(1).url, username: "admin", password: "password" })
      .catch((e) => e);
    expect(dup.code).toBe("CONFLICT");
    expect(dup.message).toMatch(/already enrolled as hw-1/);
    const asHost = await admin()
      .nodes.enroll({ name: "hw-dpu", driver: "redfish", address: dpu(2).url, username: "admin", password: "password" })
      .catch((e) => e);
    expect(asHost.message).toMatch(/is a DPU's BMC/);
    const badDpu = await admin()
      .nodes.enroll({
        name: "hw-bad",
        driver: "redfish",
        address: h.url,
        username: "admin",
        password: "password",
        dpu: { address: "http://127.0.0.1:1", username: "admin", password: "password" },
      })
      .catch((e) => e);
    expect(badDpu.cause?.field).toBe("dpu.address");
    expect((await db.select().from(s.nodes)).length).toBe(before);
  });
});

describe("inspection", () => {
  it("reads inventory and discovers the DPU as a child node", async () => {
    const h = host(2);
    await admin().nodes.enroll({ name: "hw-2", driver: "redfish", address: h.url, username: h.username, password: h.password });
    const n = await nodeByName("hw-2");
    const [res] = await admin().nodes.inspect({ ids: [n.id] });
    expect(res).toMatchObject({ ok: true });
    const op = await waitOp(res!.operationId!);
    expect(op.status, op.error ?? "").toBe("succeeded");
    expect(op.steps.map((x) => [x.name, x.status])).toEqual([
      ["read inventory", "done"],
      ["discover DPUs", "done"],
      ["record", "done"],
    ]);
    const after = await nodeByName("hw-2");
    expect(after.provisionState).toBe("manageable");
    expect((after.inventory as { cpu?: { count: number } }).cpu?.count).toBeGreaterThan(0);
    // The host's own firmware inventory (BMC, BIOS, NIC), as its BMC's UpdateService lists it.
    expect((after.inventory as { firmware?: { id: string; version: string }[] }).firmware).toEqual([
      expect.objectContaining({ id: "BMC_Firmware", version: "2.14.3" }),
      expect.objectContaining({ id: "BIOS", version: "2.19.1" }),
      expect.objectContaining({ id: "NIC_Slot_1", version: "22.41.1000" }),
    ]);
    const [child] = await db.select().from(s.nodes).where(eq(s.nodes.parentNodeId, n.id));
    expect(child).toMatchObject({ kind: "dpu", bmcAddress: dpu(2).url, name: "hw-2-dpu" });
    // A second inspection updates, never duplicates, the child.
    const [again] = await admin().nodes.inspect({ ids: [n.id] });
    expect((await waitOp(again!.operationId!)).status).toBe("succeeded");
    expect(await db.select().from(s.nodes).where(eq(s.nodes.parentNodeId, n.id))).toHaveLength(1);
    // While inspecting, inspect is refused with the reason.
    await db.update(s.nodes).set({ provisionState: "inspecting" }).where(eq(s.nodes.id, n.id));
    const [busy] = await admin().nodes.inspect({ ids: [n.id] });
    expect(busy).toMatchObject({ ok: false, message: "Wait for the current operation to finish." });
    await db.update(s.nodes).set({ provisionState: "manageable" }).where(eq(s.nodes.id, n.id));
  });
});

describe("power", () => {
  it("powers a host on and off; its DPU follows it off unless it has its own supply", async () => {
    const n = await nodeByName("hw-1");
    const [on] = await admin().nodes.power({ ids: [n.id], action: "on" });
    expect((await waitOp(on!.operationId!)).status).toBe("succeeded");
    expect((await nodeByName("hw-1")).powerState).toBe("on");
    const [off] = await admin().nodes.power({ ids: [n.id], action: "off" });
    expect((await waitOp(off!.operationId!)).status).toBe("succeeded");
    expect((await nodeByName("hw-1")).powerState).toBe("off");
    expect((await nodeByName("hw-1-dpu")).powerState).toBe("off");
    const events = await db
      .select()
      .from(s.hardwareEvents)
      .where(and(eq(s.hardwareEvents.nodeId, n.id), eq(s.hardwareEvents.kind, "power")));
    expect(events.some((e) => /on → off/.test(e.message))).toBe(true);
  });

  it("powering a DPU on powers its host on first", async () => {
    const d = await nodeByName("hw-1-dpu");
    const [r] = await admin().nodes.power({ ids: [d.id], action: "on" });
    const op = await waitOp(r!.operationId!);
    expect(op.status, op.error ?? "").toBe("succeeded");
    expect(op.steps.map((x) => x.name)).toContain("power on the host first");
    expect((await nodeByName("hw-1")).powerState).toBe("on");
    expect((await nodeByName("hw-1-dpu")).powerState).toBe("on");
  });

  it("refuses what the rules forbid, per node, with the reason", async () => {
    const n = await nodeByName("hw-1");
    const res = await admin().nodes.power({ ids: [n.id, "00000000-0000-4000-8000-000000000000"], action: "on" });
    expect(res[0]).toMatchObject({ ok: false, message: "It is already on." });
    expect(res[1]).toMatchObject({ ok: false, message: expect.stringMatching(/No such node/) });
  });

  it("runs a step on the DPU children only (execute_on_child_nodes)", async () => {
    const n = await nodeByName("hw-1");
    const res = await admin().nodes.runStep({ id: n.id, step: "power_off", executeOnChildNodes: true });
    expect(res).toHaveLength(1);
    expect(res[0]).toMatchObject({ name: "hw-1-dpu", ok: true });
    expect((await waitOp(res[0]!.operationId!)).status).toBe("succeeded");
    expect((await nodeByName("hw-1")).powerState).toBe("on");
    expect((await nodeByName("hw-1-dpu")).powerState).toBe("off");
  });
});

describe("sync", () => {
  it("marks an unreachable BMC as a fault with the reason and an event, and clears it on recovery", async () => {
    const n = await nodeByName("hw-2");
    await bmcAdmin(sim, "PUT", `${host(2).id}/faults`, { unreachable: true });
    await syncShard(n.syncShard, 0);
    let after = await nodeByName("hw-2");
    expect(after.fault).toMatch(/^BMC unreachable/);
    const ev = await db
      .select()
      .from(s.hardwareEvents)
      .where(and(eq(s.hardwareEvents.nodeId, n.id), eq(s.hardwareEvents.kind, "fault")));
    expect(ev.at(-1)?.message).toMatch(/^Fault: BMC unreachable/);
    await bmcAdmin(sim, "DELETE", `${host(2).id}/faults`);
    await syncShard(n.syncShard, 0);
    after = await nodeByName("hw-2");
    expect(after.fault).toBeNull();
  });

  it("turns critical health into a fault and records the power state it finds", async () => {
    const n = await nodeByName("hw-2");
    await bmcAdmin(sim, "POST", `${host(2).id}/sel`, { Severity: "Critical", Message: "PSU 1 failure", SensorType: "Power Supply / Converter" });
    await syncShard(n.syncShard, 0);
    const after = await nodeByName("hw-2");
    expect(after.health).toBe("critical");
    expect(after.fault).toMatch(/^Critical health/);
    await bmcAdmin(sim, "DELETE", `${host(2).id}/faults`);
    await syncShard(n.syncShard, 0);
    expect((await nodeByName("hw-2")).fault).toBeNull();
  });
});

describe("firmware updates", () => {
  it("updates DPU_OS through SimpleUpdate, following the task to the new version", async () => {
    const d = await nodeByName("hw-1-dpu");
    const [on] = await admin().nodes.power({ ids: [d.id], action: "on" });
    await waitOp(on!.operationId!);
    // The image URL must be on the management network too (the BMC downloads it; the lab's simulator only reads its name).
    const { operationId } = await admin().nodes.firmwareUpdate({
      id: d.id,
      imageUri: "http://127.0.0.1:9/bf-bundle-2.9.1-40_25.04_ubuntu-22.04_prod.bfb",
      targets: ["/redfish/v1/UpdateService/FirmwareInventory/DPU_OS"],
    });
    const op = await waitOp(operationId);
    expect(op.status, op.error ?? "").toBe("succeeded");
    const fw = ((await nodeByName("hw-1-dpu")).inventory as { firmware?: { id: string; version: string }[] }).firmware ?? [];
    expect(fw.find((f) => f.id === "DPU_OS")?.version).toBe("2.9.1-40");
  });

  it("updates a host's BIOS through the same task-following workflow, and refuses while an instance runs on it", async () => {
    const h = await nodeByName("hw-1");
    const { operationId } = await admin().nodes.firmwareUpdate({ id: h.id, imageUri: "http://127.0.0.1:9/bios-2.20.0.bin", targets: ["BIOS"] });
    const op = await waitOp(operationId);
    expect(op.status, op.error ?? "").toBe("succeeded");
    const fw = ((await nodeByName("hw-1")).inventory as { firmware?: { id: string; version: string }[] }).firmware ?? [];
    expect(fw.find((f) => f.id === "BIOS")?.version).toBe("2.20.0"); // was 2.19.1; only the targeted component changes
    expect(fw.find((f) => f.id === "BMC_Firmware")?.version).toBe("2.14.3");
    await db.update(s.nodes).set({ provisionState: "active" }).where(eq(s.nodes.id, h.id));
    try {
      const refused = await admin()
        .nodes.firmwareUpdate({ id: h.id, imageUri: "http://127.0.0.1:9/bios-2.21.0.bin" })
        .catch((e) => e);
      expect(refused.message).toBe("The host runs an instance or Anvil is working on it; update its firmware when it is free.");
    } finally {
      await db.update(s.nodes).set({ provisionState: h.provisionState }).where(eq(s.nodes.id, h.id));
    }
  });
});

describe("management network", () => {
  const saved = process.env.ANVIL_MGMT_ALLOW;
  const restore = () => {
    process.env.ANVIL_MGMT_ALLOW = saved;
  };

  it("refuses a probe or an enroll outside ANVIL_MGMT_ALLOW as a field error, contacting and enrolling nothing", async () => {
    const h = host(6);
    const before = (await db.select().from(s.nodes)).length;
    process.env.ANVIL_MGMT_ALLOW = "10.0.0.0/8";
    try {
      const probe = await admin()
        .nodes.probe({ driver: "redfish", address: h.url, username: h.username, password: h.password, verifyTls: false })
        .catch((e) => e);
      expect(probe.code).toBe("BAD_REQUEST");
      expect(probe.cause?.field).toBe("address");
      expect(probe.message).toMatch(
        /^127\.0\.0\.1 is not on the management network allowed by ANVIL_MGMT_ALLOW \(10\.0\.0\.0\/8\): loopback \(127\.0\.0\.0\/8\) is refused unless ANVIL_MGMT_ALLOW lists it\.$/,
      );
      const enroll = await admin()
        .nodes.enroll({ name: "hw-mgmt", driver: "redfish", address: h.url, username: h.username, password: h.password, verifyTls: false })
        .catch((e) => e);
      expect(enroll.code).toBe("BAD_REQUEST");
      expect(enroll.cause?.field).toBe("address");
      expect(enroll.message).toMatch(/is not on the management network allowed by ANVIL_MGMT_ALLOW \(10\.0\.0\.0\/8\)/);
      const ipmi = await admin()
        .nodes.probe({ driver: "ipmi", address: "localhost:623", username: "admin", password: "password" })
        .catch((e) => e);
      expect(ipmi.message).toMatch(/^localhost \(.+\) is not on the management network/);
    } finally {
      restore();
    }
    expect((await db.select().from(s.nodes)).length).toBe(before);
    // The lab's addresses, allowed, still work.
    const allowed = await admin().nodes.probe({ driver: "redfish", address: h.url, username: h.username, password: h.password, verifyTls: false });
    expect(allowed).toMatchObject({ ok: true, systemType: "physical" });
  });

  it("refuses the metadata address, link-local and a DPU agent URL off the management network even with loopback allowed", async () => {
    const h = host(6);
    const meta = await admin()
      .nodes.probe({ driver: "redfish", address: "http://169.254.169.254", username: "a", password: "b" })
      .catch((e) => e);
    expect(meta.message).toBe(
      "169.254.169.254 is not on the management network allowed by ANVIL_MGMT_ALLOW (127.0.0.0/8): the cloud metadata address is refused unless ANVIL_MGMT_ALLOW lists it.",
    );
    const linkLocal = await admin()
      .nodes.enroll({ name: "hw-mgmt", driver: "ipmi", address: "169.254.3.4:623", username: "a", password: "b" })
      .catch((e) => e);
    expect(linkLocal.cause?.field).toBe("address");
    expect(linkLocal.message).toMatch(/link-local \(169\.254\.0\.0\/16\) is refused/);
    const agent = await admin()
      .nodes.enroll({
        name: "hw-mgmt",
        driver: "redfish",
        address: h.url,
        username: h.username,
        password: h.password,
        verifyTls: false,
        dpu: { address: dpu(6).url, agentUrl: "http://169.254.169.254:8443", agentToken: "t".repeat(16) },
      })
      .catch((e) => e);
    expect(agent.cause?.field).toBe("dpu.agentUrl");
    expect(agent.message).toMatch(/^169\.254\.169\.254 is not on the management network/);
    expect(await db.select().from(s.nodes).where(eq(s.nodes.name, "hw-mgmt"))).toHaveLength(0);
  });

  it("refuses firmware image URLs off the management network or that do not resolve, starting nothing", async () => {
    const d = await nodeByName("hw-1-dpu");
    const opsBefore = (await db.select().from(s.operations)).length;
    const meta = await admin()
      .nodes.firmwareUpdate({ id: d.id, imageUri: "http://169.254.169.254/latest/meta-data/iam" })
      .catch((e) => e);
    expect(meta.code).toBe("BAD_REQUEST");
    expect(meta.cause?.field).toBe("imageUri");
    expect(meta.message).toMatch(/^169\.254\.169\.254 is not on the management network/);
    const unresolved = await admin()
      .nodes.firmwareUpdate({ id: d.id, imageUri: "http://images.invalid/x.bfb" })
      .catch((e) => e);
    expect(unresolved.message).toMatch(/^images\.invalid does not resolve from Anvil/);
    const step = await admin()
      .nodes.runStep({ id: (await nodeByName("hw-1")).id, step: "firmware_update", executeOnChildNodes: true, args: { imageUri: "http://[fe80::1]/x.bfb" } })
      .catch((e) => e);
    expect(step.cause?.field).toBe("args.imageUri");
    expect((await db.select().from(s.operations)).length).toBe(opsBefore);
  });

  it("refuses a bulk row whose BMC is off the management network, enrolling the others", async () => {
    const csv = [
      "name,pool,driver,bmc_address,bmc_username,bmc_password,verify_tls",
      `hw-6,,redfish,${host(6).url},admin,password,false`,
      "hw-meta,,redfish,http://169.254.169.254,admin,password,false",
    ].join("\n");
    const { operationId } = await admin().nodes.enrollBulk({ csv });
    const op = await waitOp(operationId);
    const rows = (op.result as { rows: { ok: boolean; message: string }[] }).rows;
    expect(rows.map((r) => r.ok)).toEqual([true, false]);
    expect(rows[1]!.message).toMatch(/^address: 169\.254\.169\.254 is not on the management network/);
    await admin().nodes.delete({ id: (await nodeByName("hw-6")).id });
  });
});

describe("bulk enroll and delete", () => {
  it("enrolls CSV rows with a result per row", async () => {
    const h3 = host(3);
    const h4 = host(4);
    const csv = [
      "name,pool,driver,bmc_address,bmc_username,bmc_password,verify_tls,dpu_bmc_address,dpu_bmc_username,dpu_bmc_password",
      `hw-3,,redfish,${h3.url},admin,password,false,${dpu(3).url},${dpu(3).username},${dpu(3).password}`,
      `hw-4,nosuchpool,redfish,${h4.url},admin,password,false,,,`,
      `hw-5,,redfish,${host(5).url},admin,wrong,false,,,`,
      "hw 6,,redfish,http://x,admin,password,false,,,",
    ].join("\n");
    const { operationId, rows } = await admin().nodes.enrollBulk({ csv });
    expect(rows).toBe(4);
    const op = await waitOp(operationId);
    const result = op.result as { enrolled: number; rows: { line: number; ok: boolean; message: string }[] };
    expect(result.enrolled).toBe(1);
    expect(result.rows.map((r) => r.ok)).toEqual([true, false, false, false]);
    expect(result.rows[1]!.message).toMatch(/no pool named nosuchpool/);
    expect(result.rows[2]!.message).toMatch(/refused the credentials/);
    expect(result.rows[3]!.message).toMatch(/^name:/);
    expect(await db.select().from(s.nodes).where(eq(s.nodes.name, "hw-4"))).toHaveLength(0);
  });

  it("deletes a host together with its DPUs", async () => {
    const n = await nodeByName("hw-3");
    const r = await admin().nodes.delete({ id: n.id });
    expect(r.deletedChildren).toBe(1);
    expect(await db.select().from(s.nodes).where(eq(s.nodes.parentNodeId, n.id))).toHaveLength(0);
  });
});

describe("sync and a node deleted under it", () => {
  it("a node deleted while its slow BMC is polled is skipped: the shard ends cleanly, no event names the gone node", async () => {
    const d = await nodeByName("hw-2-dpu");
    // The answer comes after a second, and is an error: a fault (and its event) would be recorded for the node.
    await bmcAdmin(sim, "PUT", `${dpu(2).id}/faults`, { latencyMs: 1000, errorRate: 1 });
    try {
      const pass = syncShard(d.syncShard, 0);
      await new Promise((r) => setTimeout(r, 300));
      await db.delete(s.nodes).where(eq(s.nodes.id, d.id));
      await pass;
    } finally {
      await bmcAdmin(sim, "DELETE", `${dpu(2).id}/faults`);
    }
    expect(await db.select().from(s.nodes).where(eq(s.nodes.id, d.id))).toHaveLength(0);
    expect(await db.select().from(s.hardwareEvents).where(eq(s.hardwareEvents.nodeId, d.id))).toEqual([]);
  });
});
