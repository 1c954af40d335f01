// Enrolment, inspection, power and the boot device against BMCs as they are in the field (issue #13), played by the
// lab simulator's Redfish dialects, with a real Postgres and workflow engine: a BMC serving several servers (each
// enrolled by its system URL, driven alone), DMTF's DPU topology (the DPU a second system of the host's BMC, found
// by inspection and enrollable by its system URL), and a BMC that keeps a one-time boot override for every boot
// (the event says so).
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as s from "@/db/schema";
import { type RedfishSim, startRedfishSim } from "@/sim/redfish";
import { releaseStaleAddresses, uniq, useTestDb } from "@/test/db";
import { useEngine } from "@/test/engine";
import { waitOperation } from "@/test/instance-lab";
import { callerAs } from "@/test/fixtures";

let multi: RedfishSim;
let smartnic: RedfishSim;
let sticky: RedfishSim;
const db = useTestDb();

beforeAll(async () => {
  const timing = { powerTransitionMs: 40, bootMs: 30 };
  [multi, smartnic, sticky] = await Promise.all([
    startRedfishSim({ hosts: 2, dpuEvery: 0, dialect: "multi-node", ...timing }),
    startRedfishSim({ hosts: 2, dpuEvery: 1, dialect: "dmtf-smartnic", ...timing }),
    startRedfishSim({ hosts: 1, dpuEvery: 0, dialect: "sticky-boot", ...timing }),
  ]);
  await releaseStaleAddresses(
    db,
    [multi, smartnic, sticky].flatMap((x) => x.bmcs.map((b) => b.url)),
  );
});
afterAll(async () => {
  await Promise.all([multi?.close(), smartnic?.close(), sticky?.close()]);
});
const fx = useEngine("field");

const admin = () => callerAs(fx, "operatorAdmin");
const creds = { username: "admin", password: "password", verifyTls: false };

const waitOp = (id: string) => waitOperation(db, id);

async function nodeByName(name: string) {
  const [n] = await db.select().from(s.nodes).where(eq(s.nodes.name, name));
  return n!;
}

async function simPower(sim: RedfishSim, id: string): Promise<string> {
  return ((await (await fetch(`${sim.adminUrl}/admin/bmcs/${id}`)).json()) as { powerState: string }).powerState;
}

describe("a BMC serving several servers (finding 1)", () => {
  it("refuses its bare address with the system URLs, enrolls each by its system URL and drives only that one", async () => {
    const [n1, n2] = multi.bmcs;
    const bare = await admin()
      .nodes.enroll({ name: uniq("mn-bare"), driver: "redfish", address: n1.baseUrl, ...creds })
      .catch((e) => e);
    expect(bare.code).toBe("BAD_REQUEST");
    expect(bare.message).toBe(`BMC ${n1.baseUrl} manages 2 computer systems; enroll each by the URL of its system: ${n1.url}, ${n2.url}`);
    const name1 = uniq("mn-1");
    const name2 = uniq("mn-2");
    expect(await admin().nodes.enroll({ name: name1, driver: "redfish", address: n1.url, ...creds })).toMatchObject({ ok: true });
    expect(await admin().nodes.enroll({ name: name2, driver: "redfish", address: n2.url, ...creds })).toMatchObject({ ok: true });
    const node2 = await nodeByName(name2);
    expect(node2.bmcAddress).toBe(n2.url);
    const [on] = await admin().nodes.power({ ids: [node2.id], action: "on" });
    expect((await waitOp(on!.operationId!)).status).toBe("succeeded");
    expect(await simPower(multi, n2.id)).toBe("On");
    expect(await simPower(multi, n1.id)).toBe("Off");
    const [off] = await admin().nodes.power({ ids: [node2.id], action: "off" });
    expect((await waitOp(off!.operationId!)).status).toBe("succeeded");
  });
});

describe("DMTF's DPU topology: the DPU is a system of the host's BMC (finding 5)", () => {
  it("inspection finds the DPU and enrolls it as a child at its system URL, with the host's credentials", async () => {
    const [host, dpu] = [smartnic.byId("node-0001")!, smartnic.byId("node-0001-dpu")!];
    const name = uniq("sn");
    expect(await admin().nodes.enroll({ name, driver: "redfish", address: host.url, ...creds })).toMatchObject({ ok: true });
    const n = await nodeByName(name);
    const [res] = await admin().nodes.inspect({ ids: [n.id] });
    const op = await waitOp(res!.operationId!);
    expect(op.status, op.error ?? "").toBe("succeeded");
    const kids = await db.select().from(s.nodes).where(eq(s.nodes.parentNodeId, n.id));
    expect(kids.map((k) => ({ kind: k.kind, bmcAddress: k.bmcAddress, name: k.name }))).toEqual([{ kind: "dpu", bmcAddress: dpu.url, name: `${name}-dpu` }]);
    expect(kids[0]?.bmcAddress).toBe(`${host.baseUrl}/redfish/v1/Systems/Card1-SoC`);
    expect((kids[0]!.inventory as { systemType?: string }).systemType).toBe("dpu");
  });

  it("enrolls a host with its DPU given by the DPU's system URL on the same BMC", async () => {
    const [host, dpu] = [smartnic.byId("node-0002")!, smartnic.byId("node-0002-dpu")!];
    const name = uniq("sn-direct");
    const r = await admin().nodes.enroll({
      name,
      driver: "redfish",
      address: host.url,
      ...creds,
      dpu: { address: dpu.url, username: dpu.username, password: dpu.password },
    });
    expect(r).toMatchObject({ ok: true });
    const kids = await db
      .select()
      .from(s.nodes)
      .where(eq(s.nodes.parentNodeId, (await nodeByName(name)).id));
    expect(kids.map((k) => [k.kind, k.bmcAddress])).toEqual([["dpu", dpu.url]]);
  });
});

describe("a BMC that keeps every boot override (finding 4)", () => {
  it("records and answers what the BMC applied, not what was asked", async () => {
    const b = sticky.bmcs[0];
    const name = uniq("sticky");
    await admin().nodes.enroll({ name, driver: "redfish", address: b.url, ...creds });
    const n = await nodeByName(name);
    const r = await admin().nodes.setBootDevice({ id: n.id, device: "pxe", persistent: false });
    expect(r).toMatchObject({ ok: true, honoured: false, applied: { device: "pxe", persistent: true } });
    expect(r.message).toMatch(/^Boot device set to pxe — the BMC keeps this override for every boot/);
    const events = await db.select().from(s.hardwareEvents).where(eq(s.hardwareEvents.nodeId, n.id));
    const ev = events.find((e) => e.message.startsWith("Boot device set to"));
    expect(ev).toMatchObject({ severity: "warning" });
    expect(ev?.message).toMatch(/the BMC keeps this override for every boot .* by /);
  });
});
