// nodeBios router against a real Postgres and the lab's simulated host BMC: operators read current and pending
// attributes; an operator admin's change is stored pending on the BMC, audited with the values it replaces and
// noted in the node's events, and applied when the host reboots; an unknown attribute or a bad value is a field
// error that leaves the BMC and the audit log as they were; DPUs and IPMI hosts are refused with the reason.
import { and, eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as s from "@/db/schema";
import { seal } from "@/server/lib/secrets";
import { type RedfishSim, type SimBmc, startRedfishSim } from "@/sim/redfish";
import { callerAs, failure, fieldOf, insertHost, useFixtures } from "@/test/fixtures";

const fx = useFixtures();
let sim: RedfishSim;
let hostBmc: SimBmc;
let otherHostBmc: SimBmc;

beforeAll(async () => {
  sim = await startRedfishSim({ hosts: 2, powerTransitionMs: 30, bootMs: 30 });
  [hostBmc, , otherHostBmc] = sim.bmcs;
});
afterAll(async () => {
  await sim?.close();
});

const creds = () => seal(JSON.stringify({ username: "admin", password: "password" }));

async function auditOf(nodeId: string) {
  return fx.db
    .select()
    .from(s.auditEvents)
    .where(and(eq(s.auditEvents.targetId, nodeId), eq(s.auditEvents.action, "node.set_bios")));
}

describe("nodeBios", () => {
  it("stores a change pending, audits it, and shows it applied after the host reboots", async () => {
    const n = await insertHost(fx.db, { bmcAddress: hostBmc.url, bmcCredentials: creds() });
    const viewer = callerAs(fx, "operatorViewer");
    const admin = callerAs(fx, "operatorAdmin");
    const before = await viewer.nodeBios.get({ id: n.id });
    expect(before.current.ProcVirtualization).toBe("Enabled");
    expect(before.pending).toEqual({});
    expect(before.registry?.map((a) => a.name)).toContain("ProcVirtualization");

    const r = await admin.nodeBios.set({ id: n.id, attributes: { ProcVirtualization: "Disabled", PxeRetryCount: 7 } });
    expect(r.message).toMatch(/apply at its next reboot/);
    const pending = await viewer.nodeBios.get({ id: n.id });
    expect(pending.pending).toEqual({ ProcVirtualization: "Disabled", PxeRetryCount: 7 });
    expect(pending.current.ProcVirtualization).toBe("Enabled");

    const [row] = await auditOf(n.id);
    expect(row?.actorEmail).toBe(fx.principals.operatorAdmin.email);
    expect(row?.details).toEqual({
      attributes: { ProcVirtualization: "Disabled", PxeRetryCount: 7 },
      was: { ProcVirtualization: "Enabled", PxeRetryCount: 3 },
    });
    const events = await fx.db.select().from(s.hardwareEvents).where(eq(s.hardwareEvents.nodeId, n.id));
    expect(events.map((e) => e.message)).toEqual([expect.stringMatching(/BIOS attributes ProcVirtualization, PxeRetryCount set by .*next reboot/)]);

    const sys = await fetch(`${hostBmc.url}/redfish/v1/Systems/System.Embedded.1/Actions/Sim/ComputerSystem.Reset`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Basic ${Buffer.from("admin:password").toString("base64")}` },
      body: JSON.stringify({ ResetType: "On" }),
    });
    expect(sys.status).toBe(204);
    const end = Date.now() + 5000;
    let after = await viewer.nodeBios.get({ id: n.id });
    while (after.current.ProcVirtualization !== "Disabled" && Date.now() < end) {
      await new Promise((res) => setTimeout(res, 20));
      after = await viewer.nodeBios.get({ id: n.id });
    }
    expect(after.current).toMatchObject({ ProcVirtualization: "Disabled", PxeRetryCount: 7 });
    expect(after.pending).toEqual({});
  });

  it("refuses an unknown attribute or a bad value as a field error, changing nothing", async () => {
    const n = await insertHost(fx.db, { bmcAddress: otherHostBmc.url, bmcCredentials: creds() });
    const admin = callerAs(fx, "operatorAdmin");
    const before = await admin.nodeBios.get({ id: n.id });

    const unknown = await failure(admin.nodeBios.set({ id: n.id, attributes: { TurboBoostMax: "Enabled" } }));
    expect(unknown.code).toBe("BAD_REQUEST");
    expect(fieldOf(unknown)).toBe("attributes.TurboBoostMax");
    expect(unknown.message).toMatch(/no BIOS attribute "TurboBoostMax"/);

    const bad = await failure(admin.nodeBios.set({ id: n.id, attributes: { PxeRetryCount: 11 } }));
    expect(fieldOf(bad)).toBe("attributes.PxeRetryCount");
    expect(bad.message).toBe("PXE Retry Count must be from 0 to 10.");

    const readOnly = await failure(admin.nodeBios.set({ id: n.id, attributes: { SystemMemorySize: "2 TB" } }));
    expect(fieldOf(readOnly)).toBe("attributes.SystemMemorySize");

    for (const attributes of [{}, { "bad name": "x" }, { SysProfile: { nested: 1 } }]) {
      expect((await failure(admin.nodeBios.set({ id: n.id, attributes } as never))).code).toBe("BAD_REQUEST");
    }
    expect(await admin.nodeBios.get({ id: n.id })).toEqual(before);
    expect(await auditOf(n.id)).toEqual([]);
  });

  it("refuses DPUs, IPMI hosts and unreachable BMCs with the reason; unknown nodes are NOT_FOUND", async () => {
    const admin = callerAs(fx, "operatorAdmin");
    const dpu = await insertHost(fx.db, { kind: "dpu", bmcAddress: sim.bmcs[1].url, bmcCredentials: creds() });
    const e1 = await failure(admin.nodeBios.get({ id: dpu.id }));
    expect(e1.code).toBe("PRECONDITION_FAILED");
    expect(e1.message).toMatch(/is a DPU; BIOS settings are a host's/);
    const ipmi = await insertHost(fx.db, { bmcDriver: "ipmi", bmcAddress: "127.0.0.1:1", bmcCredentials: creds() });
    const e2 = await failure(admin.nodeBios.set({ id: ipmi.id, attributes: { SysProfile: "Custom" } }));
    expect(e2.code).toBe("PRECONDITION_FAILED");
    expect(e2.message).toMatch(/IPMI BMC of .* offers no BIOS settings/);
    const gone = await insertHost(fx.db, { bmcCredentials: creds() });
    const e3 = await failure(admin.nodeBios.get({ id: gone.id }));
    expect(e3.code).toBe("PRECONDITION_FAILED");
    expect(e3.message).toMatch(/No BMC answers at/);
    expect((await failure(admin.nodeBios.get({ id: crypto.randomUUID() }))).code).toBe("NOT_FOUND");
  });
});
