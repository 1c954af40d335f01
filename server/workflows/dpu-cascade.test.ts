// A DPU whose BMC sits behind its host's BMC (a BMC cascade, the xFusion deck's style), against the Redfish simulator
// with every DPU cascaded and DPU BMCs that take a password of their own: inspection records the DPU as reached through
// the host's BMC (no address of its own) and waiting for its own credentials; they are checked through the proxy (the
// host's are refused there) and then the DPU is polled through it; enrolment with the DPU's credentials and no address
// finds it there; and losing the host's BMC marks both unreachable — the DPU naming its host's BMC — and both come back.
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as s from "@/db/schema";
import { type RedfishSim, startRedfishSim } from "@/sim/redfish";
import { bmcAdmin } from "@/test/bmc-admin";
import { releaseStaleAddresses, useTestDb } from "@/test/db";
import { useEngine } from "@/test/engine";
import { callerAs } from "@/test/fixtures";
import { waitOperation } from "@/test/instance-lab";
import { DPU_CREDENTIALS_NEEDED } from "./bmc-access";
import { applyPoll, pollNode, syncNodes } from "./sync";

const DPU_PASSWORD = "cascade-Dpu-Own-3";
let sim: RedfishSim;
const db = useTestDb();

beforeAll(async () => {
  sim = await startRedfishSim({ hosts: 2, idPrefix: "kcas", cascade: true, dpuPassword: DPU_PASSWORD, powerTransitionMs: 40, bootMs: 30 });
  await releaseStaleAddresses(
    db,
    sim.bmcs.map((b) => b.url),
  );
});
afterAll(async () => {
  await sim?.close();
});
const fx = useEngine("kcas");
const admin = () => callerAs(fx, "operatorAdmin");
const host = (i: number) => sim.byId(`kcas-000${i}`)!;
const dpu = (i: number) => sim.byId(`kcas-000${i}-dpu`)!;

async function nodeByName(name: string) {
  const [n] = await db.select().from(s.nodes).where(eq(s.nodes.name, name));
  return n!;
}
/** One sync pass over a node, as the scheduled sync makes it; the node as it then is. */
async function syncOnce(id: string) {
  const [n] = await syncNodes(eq(s.nodes.id, id));
  await applyPoll(n!, await pollNode(n!), new Date());
  const [after] = await db.select().from(s.nodes).where(eq(s.nodes.id, id));
  return after!;
}

describe("a DPU behind its host's BMC", () => {
  it("is recorded at inspection as reached through the host's BMC, waiting for its own credentials", async () => {
    const h = host(1);
    expect(dpu(1).via).toBe("cascade");
    await admin().nodes.enroll({ name: "kcas-1", driver: "redfish", address: h.url, username: h.username, password: h.password, verifyTls: false });
    const n = await nodeByName("kcas-1");
    const [res] = await admin().nodes.inspect({ ids: [n.id] });
    const op = await waitOperation(db, res!.operationId!);
    expect(op.status, op.error ?? "").toBe("succeeded");
    const kids = await db.select().from(s.nodes).where(eq(s.nodes.parentNodeId, n.id));
    expect(kids.map((k) => ({ kind: k.kind, bmcAccess: k.bmcAccess, bmcAddress: k.bmcAddress, bmcCredentials: k.bmcCredentials, fault: k.fault }))).toEqual([
      { kind: "dpu", bmcAccess: "cascade", bmcAddress: dpu(1).url, bmcCredentials: null, fault: DPU_CREDENTIALS_NEEDED },
    ]);
    expect(kids[0]!.bmcAddress.startsWith(h.url)).toBe(true); // the host BMC's proxy, no address of the DPU's own
    const events = await db.select().from(s.hardwareEvents).where(eq(s.hardwareEvents.nodeId, kids[0]!.id));
    expect(events.map((e) => e.message)).toContainEqual(expect.stringMatching(/behind its BMC \(cascade, at .*\); its BMC waits for its own credentials/));
    // The node page's data says how it is reached (the UI shows "via host BMC kcas-1").
    const detail = await admin().nodes.get({ id: n.id });
    expect(detail.children.map((c) => c.bmcAccess)).toEqual(["cascade"]);
  });

  it("takes only the DPU BMC's own credentials through the proxy, then is polled through it", async () => {
    const d = await nodeByName("kcas-1-dpu");
    const wrong = await admin()
      .dpuBmc.setCredentials({ id: d.id, username: host(1).username, password: host(1).password })
      .catch((e) => e);
    expect(wrong.cause?.field).toBe("password");
    expect(wrong.message).toMatch(/refused the credentials/);
    expect((await nodeByName("kcas-1-dpu")).bmcCredentials).toBeNull();
    await admin().dpuBmc.setCredentials({ id: d.id, username: dpu(1).username, password: DPU_PASSWORD });
    const after = await syncOnce(d.id);
    expect(after.fault).toBeNull();
    expect(after.powerState).toMatch(/^(on|off)$/);
    expect(after.bmcAccess).toBe("cascade");
  });

  it("is found through the host's BMC when enrolled with its own credentials and no address", async () => {
    const h = host(2);
    const r = await admin().nodes.enroll({
      name: "kcas-2",
      driver: "redfish",
      address: h.url,
      username: h.username,
      password: h.password,
      verifyTls: false,
      dpu: { username: dpu(2).username, password: DPU_PASSWORD },
    });
    expect(r.ok).toBe(true);
    const child = await nodeByName("kcas-2-dpu");
    expect(child).toMatchObject({ bmcAccess: "cascade", bmcAddress: dpu(2).url });
    expect(child.bmcCredentials).toBeTruthy();
    expect((await syncOnce(child.id)).fault).toBeNull();
  });

  it("goes unreachable with its host's BMC, naming it, and both come back with it", async () => {
    const [h, d] = [await nodeByName("kcas-1"), await nodeByName("kcas-1-dpu")];
    await bmcAdmin(sim, "PUT", `${host(1).id}/faults`, { unreachable: true });
    try {
      expect((await syncOnce(h.id)).fault).toMatch(/^BMC unreachable/);
      const down = await syncOnce(d.id);
      expect(down.fault).toMatch(/^Host BMC unreachable: this DPU's BMC is reached through the BMC of kcas-1 \(cascade\), which does not answer/);
      const events = await db.select().from(s.hardwareEvents).where(eq(s.hardwareEvents.nodeId, d.id));
      expect(events.map((e) => e.message)).toContainEqual(expect.stringMatching(/^Fault: Host BMC unreachable: .*kcas-1/));
    } finally {
      await bmcAdmin(sim, "DELETE", `${host(1).id}/faults`);
    }
    expect((await syncOnce(h.id)).fault).toBeNull();
    const back = await syncOnce(d.id);
    expect(back.fault).toBeNull();
    expect(back.powerState).toMatch(/^(on|off)$/);
  });
});
