// A DPU's BMC is called only with its own credentials, against the Redfish simulator whose DPU BMCs accept a password
// of their own (not the hosts'): inspection records a DPU it finds without calling it and says credentials are needed,
// the power sync says so too, "Set DPU BMC credentials" probes before saving (wrong ones change nothing), and enrolment
// takes the DPU's credentials from the single form or the CSV's dpu_bmc_username/dpu_bmc_password columns (and the
// host's traits from its traits column). A DPU's BMC may speak IPMI (OpenIPMI's ipmi_sim here): recorded with its
// protocol, and polled, powered and re-inspected through it.
import { and, eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as s from "@/db/schema";
import { type RedfishSim, startRedfishSim } from "@/sim/redfish";
import { releaseStaleAddresses, useTestDb } from "@/test/db";
import { useEngine } from "@/test/engine";
import { waitOperation } from "@/test/instance-lab";
import { callerAs } from "@/test/fixtures";
import { type IpmiSim, startIpmiSim } from "@/test/ipmi-sim";
import { DPU_CREDENTIALS_NEEDED } from "./bmc-access";
import { pollNode } from "./sync";

const DPU_PASSWORD = "dpu-own-Secret-7";
let sim: RedfishSim;
/** A host without a DPU of its own on the Redfish side, whose DPU's BMC is the IPMI simulator. */
let bare: RedfishSim;
let ipmi: IpmiSim;
const db = useTestDb();

beforeAll(async () => {
  sim = await startRedfishSim({ hosts: 4, idPrefix: "dcred", dpuPassword: DPU_PASSWORD, powerTransitionMs: 60, bootMs: 50 });
  bare = await startRedfishSim({ hosts: 1, idPrefix: "dcipmi", dpuEvery: 0, powerTransitionMs: 60, bootMs: 50 });
  ipmi = await startIpmiSim({ initialPower: "off" });
  await releaseStaleAddresses(db, [...sim.bmcs, ...bare.bmcs].map((b) => b.url).concat(ipmi.address));
});
afterAll(async () => {
  await Promise.all([sim?.close(), bare?.close(), ipmi?.stop()]);
});
const fx = useEngine("dcred");
const admin = () => callerAs(fx, "operatorAdmin");
const host = (i: number) => sim.byId(`dcred-000${i}`)!;
const dpu = (i: number) => sim.byId(`dcred-000${i}-dpu`)!;

async function nodeByName(name: string) {
  const [n] = await db.select().from(s.nodes).where(eq(s.nodes.name, name));
  return n!;
}
async function auditsOf(targetId: string) {
  return db
    .select()
    .from(s.auditEvents)
    .where(and(eq(s.auditEvents.targetId, targetId), eq(s.auditEvents.action, "node.set_bmc_credentials")));
}

describe("a DPU found at inspection", () => {
  it("is recorded without credentials and without being called with the host's; the sync says what to do", async () => {
    const h = host(1);
    expect(dpu(1).password).toBe(DPU_PASSWORD);
    await admin().nodes.enroll({ name: "dcred-1", driver: "redfish", address: h.url, username: h.username, password: h.password });
    const n = await nodeByName("dcred-1");
    const [res] = await admin().nodes.inspect({ ids: [n.id] });
    const op = await waitOperation(db, res!.operationId!);
    expect(op.status, op.error ?? "").toBe("succeeded");
    const [child] = await db.select().from(s.nodes).where(eq(s.nodes.parentNodeId, n.id));
    expect(child).toMatchObject({ kind: "dpu", name: "dcred-1-dpu", bmcAddress: dpu(1).url, bmcCredentials: null, bmcCredentialsFingerprint: null });
    expect(child!.fault).toBe(DPU_CREDENTIALS_NEEDED);
    expect(child!.inspectedAt).toBeNull(); // nothing was read from its BMC
    const events = await db.select().from(s.hardwareEvents).where(eq(s.hardwareEvents.nodeId, child!.id));
    expect(events.map((e) => e.message)).toContainEqual(expect.stringMatching(/waits for its own credentials \(the host's are not reused\)/));
    // The sync does not call it either, and its fault names the remedy.
    expect(await pollNode(child!)).toMatchObject({ id: child!.id, bmcError: DPU_CREDENTIALS_NEEDED });
    // Inspecting again neither duplicates it nor calls it.
    const [again] = await admin().nodes.inspect({ ids: [n.id] });
    expect((await waitOperation(db, again!.operationId!)).status).toBe("succeeded");
    const kids = await db.select().from(s.nodes).where(eq(s.nodes.parentNodeId, n.id));
    expect(kids.map((k) => [k.id, k.bmcCredentials])).toEqual([[child!.id, null]]);
  });

  it("takes credentials only after its BMC accepted them: wrong ones (the host's) are refused and change nothing", async () => {
    const d = await nodeByName("dcred-1-dpu");
    const wrong = await admin()
      .dpuBmc.setCredentials({ id: d.id, username: host(1).username, password: host(1).password })
      .catch((e) => e);
    expect(wrong.code).toBe("BAD_REQUEST");
    expect(wrong.cause?.field).toBe("password");
    expect(wrong.message).toMatch(/refused the credentials/);
    expect(await nodeByName("dcred-1-dpu")).toEqual(d);
    expect(await auditsOf(d.id)).toHaveLength(0);

    const viewer = await callerAs(fx, "operatorViewer")
      .dpuBmc.setCredentials({ id: d.id, username: "admin", password: DPU_PASSWORD })
      .catch((e) => e);
    expect(viewer.code).toBe("FORBIDDEN");

    const ok = await admin().dpuBmc.setCredentials({ id: d.id, username: dpu(1).username, password: DPU_PASSWORD });
    const after = await nodeByName("dcred-1-dpu");
    expect(ok).toEqual({ id: d.id, bmcCredentialsFingerprint: after.bmcCredentialsFingerprint });
    expect(after.bmcCredentials).toBeTruthy();
    expect(after.bmcCredentials).not.toContain(DPU_PASSWORD);
    expect(after.fault).toBeNull();
    expect(after.inspectedAt).not.toBeNull();
    expect((after.inventory as { systemType?: string }).systemType).toBe("dpu");
    expect(await auditsOf(d.id)).toHaveLength(1);
    const detail = await admin().nodes.get({ id: d.id });
    expect(detail).not.toHaveProperty("bmcCredentials");
    expect(JSON.stringify(detail)).not.toContain(DPU_PASSWORD);
    // From now on the DPU is polled with its own credentials.
    const polled = await pollNode(after);
    expect(polled.bmcError).toBeUndefined();
    expect(polled.power).toMatch(/^(on|off)$/);
  });

  it("refuses credentials for a host (enrolled with its own) and for a node that does not exist", async () => {
    const h = await nodeByName("dcred-1");
    await expect(admin().dpuBmc.setCredentials({ id: h.id, username: "admin", password: "x" })).rejects.toMatchObject({ code: "PRECONDITION_FAILED" });
    await expect(admin().dpuBmc.setCredentials({ id: crypto.randomUUID(), username: "admin", password: "x" })).rejects.toMatchObject({ code: "NOT_FOUND" });
  });
});

describe("enrolment with the DPU's own credentials and no address", () => {
  it("finds the DPU the host's BMC names and calls it with them; wrong ones enroll nothing", async () => {
    const h = host(2);
    const wrong = await admin()
      .nodes.enroll({
        name: "dcred-2",
        driver: "redfish",
        address: h.url,
        username: h.username,
        password: h.password,
        dpu: { username: "admin", password: "nope" },
      })
      .catch((e) => e);
    expect(wrong.cause?.field).toBe("dpu.address");
    expect(wrong.message).toMatch(/refused the credentials/);
    expect(await db.select().from(s.nodes).where(eq(s.nodes.name, "dcred-2"))).toHaveLength(0);

    const r = await admin().nodes.enroll({
      name: "dcred-2",
      driver: "redfish",
      address: h.url,
      username: h.username,
      password: h.password,
      dpu: { username: dpu(2).username, password: DPU_PASSWORD },
    });
    expect(r.ok).toBe(true);
    const child = await nodeByName("dcred-2-dpu");
    expect(child).toMatchObject({ kind: "dpu", bmcAddress: dpu(2).url });
    expect(child.bmcCredentials).toBeTruthy();
    expect((await pollNode(child)).bmcError).toBeUndefined();
  });

  it("takes them from the CSV's dpu_bmc_username and dpu_bmc_password columns, and the host's traits from its traits column", async () => {
    const h = host(3);
    const csv = [
      "name,driver,bmc_address,bmc_username,bmc_password,verify_tls,dpu_bmc_username,dpu_bmc_password,traits",
      `dcred-3,redfish,${h.url},${h.username},${h.password},false,${dpu(3).username},${DPU_PASSWORD},custom-gpu;CUSTOM_NVME hw-cpu-x86-avx2`,
    ].join("\n");
    const { operationId } = await admin().nodes.enrollBulk({ csv });
    const op = await waitOperation(db, operationId);
    expect((op.result as { rows: { ok: boolean; message: string }[] }).rows).toEqual([expect.objectContaining({ ok: true, message: "enrolled with its DPU" })]);
    // The traits column lands on the host (normalized), not on its DPU.
    expect((await nodeByName("dcred-3")).traits).toEqual(["CUSTOM_GPU", "CUSTOM_NVME", "HW_CPU_X86_AVX2"]);
    const child = await nodeByName("dcred-3-dpu");
    expect(child).toMatchObject({ kind: "dpu", bmcAddress: dpu(3).url, traits: [] });
    expect((await pollNode(child)).bmcError).toBeUndefined();
  });
});

describe("enrolment with the DPU's address and no credentials of its own", () => {
  it("records the DPU uncalled, waiting for its own, instead of trying the host's; half a pair is refused", async () => {
    const h = host(4);
    const base = { driver: "redfish" as const, address: h.url, username: h.username, password: h.password };
    const half = await admin()
      .nodes.enroll({ ...base, name: "dcred-4", dpu: { address: dpu(4).url, username: dpu(4).username } })
      .catch((e) => e);
    expect(half.cause?.field).toBe("dpu.password");
    expect(half.message).toMatch(/does not reuse the host's/);
    expect(await db.select().from(s.nodes).where(eq(s.nodes.name, "dcred-4"))).toHaveLength(0);

    // The DPU's BMC refuses the host's password: with the old fallback this enroll failed on it.
    const r = await admin().nodes.enroll({ ...base, name: "dcred-4", dpu: { address: dpu(4).url } });
    expect(r.ok).toBe(true);
    const child = await nodeByName("dcred-4-dpu");
    expect(child).toMatchObject({ kind: "dpu", bmcAddress: dpu(4).url, bmcCredentials: null, bmcCredentialsFingerprint: null, fault: DPU_CREDENTIALS_NEEDED });
    expect(child.inspectedAt).toBeNull();
    const events = await db.select().from(s.hardwareEvents).where(eq(s.hardwareEvents.nodeId, child.id));
    expect(events.map((e) => e.message)).toContainEqual(expect.stringMatching(/waits for its own credentials \(the host's are not reused\)/));
    expect(await pollNode(child)).toMatchObject({ id: child.id, bmcError: DPU_CREDENTIALS_NEEDED });
    await admin().dpuBmc.setCredentials({ id: child.id, username: dpu(4).username, password: DPU_PASSWORD });
    expect((await pollNode(await nodeByName("dcred-4-dpu"))).bmcError).toBeUndefined();
  });
});

describe("a DPU whose BMC speaks IPMI", () => {
  it("is enrolled, polled, powered, re-inspected and given new credentials through IPMI", async () => {
    const h = bare.byId("dcipmi-0001")!;
    const r = await admin().nodes.enroll({
      name: "dcipmi-1",
      driver: "redfish",
      address: h.url,
      username: h.username,
      password: h.password,
      dpu: { driver: "ipmi", address: ipmi.address, username: ipmi.username, password: ipmi.password },
    });
    expect(r.ok).toBe(true);
    const d = await nodeByName("dcipmi-1-dpu");
    expect(d).toMatchObject({ kind: "dpu", bmcDriver: "ipmi", bmcAddress: ipmi.address });
    expect(await pollNode(d)).toMatchObject({ power: "off" });

    const [on] = await admin().nodes.power({ ids: [d.id], action: "on" });
    expect((await waitOperation(db, on!.operationId!)).status).toBe("succeeded");
    expect(await ipmi.power()).toBe("on");
    expect((await nodeByName("dcipmi-1-dpu")).powerState).toBe("on");

    // Inspecting the host reads its IPMI DPU through IPMI again (not as a Redfish URL), and keeps it as the one child.
    const host = await nodeByName("dcipmi-1");
    const [ins] = await admin().nodes.inspect({ ids: [host.id] });
    const op = await waitOperation(db, ins!.operationId!);
    expect(op.status, op.error ?? "").toBe("succeeded");
    expect(op.result).toEqual({ dpus: [ipmi.address] });
    const kids = await db.select().from(s.nodes).where(eq(s.nodes.parentNodeId, host.id));
    expect(kids.map((k) => [k.name, k.bmcDriver])).toEqual([["dcipmi-1-dpu", "ipmi"]]);

    // Its credentials are probed through IPMI too: a wrong password changes nothing.
    const before = await nodeByName("dcipmi-1-dpu");
    const wrong = await admin()
      .dpuBmc.setCredentials({ id: d.id, username: ipmi.username, password: "not-it" })
      .catch((e) => e);
    expect(wrong.code).toBe("BAD_REQUEST");
    expect(await nodeByName("dcipmi-1-dpu")).toEqual(before);
    await admin().dpuBmc.setCredentials({ id: d.id, username: ipmi.username, password: ipmi.password });
    expect((await pollNode(await nodeByName("dcipmi-1-dpu"))).bmcError).toBeUndefined();
  });

  it("needs its address: only a Redfish host BMC names its DPU", async () => {
    const h = bare.byId("dcipmi-0001")!;
    const e = await admin()
      .nodes.enroll({
        name: "dcipmi-2",
        driver: "redfish",
        address: h.url,
        username: h.username,
        password: h.password,
        dpu: { driver: "ipmi", username: "a", password: "b" },
      })
      .catch((x) => x);
    expect(e.cause?.field ?? e.message).toMatch(/dpu\.address|IPMI DPU BMC/);
  });
});
