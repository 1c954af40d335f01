// The vendor-passthrough step (nodes.runStep "passthrough", issue #17 point 5) through the API against real BMCs: a raw
// IPMI command that OpenIPMI's ipmi_sim knows is answered with its bytes, one it does not know is refused with the
// completion code (sent once, not retried); a Redfish OEM action on the lab BMC's Manager (host→card BMC access, as the
// Ironic DPU spec uses around a firmware update) takes effect, a body the BMC refuses (HTTP 400) comes back with the
// BMC's own message and changes nothing; a path that is not an Actions/Oem target, or a request in the other
// protocol, is refused before anything is sent. Every passthrough that was sent is audited.
import { and, eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as s from "@/db/schema";
import { type RedfishSim, type SimBmc, startRedfishSim } from "@/sim/redfish";
import { releaseStaleAddresses, uniq, useTestDb } from "@/test/db";
import { useEngine } from "@/test/engine";
import { callerAs, failure, fieldOf } from "@/test/fixtures";
import { type IpmiSim, startIpmiSim } from "@/test/ipmi-sim";

let ipmi: IpmiSim;
let sim: RedfishSim;
let bmc: SimBmc;
const db = useTestDb();

beforeAll(async () => {
  ipmi = await startIpmiSim({ initialPower: "off" });
  sim = await startRedfishSim({ hosts: 1, dpuEvery: 0, powerTransitionMs: 30, bootMs: 30 });
  bmc = sim.bmcs[0]!;
  await releaseStaleAddresses(db, [bmc.url]);
});
afterAll(async () => {
  await ipmi?.stop();
  await sim?.close();
});
const fx = useEngine("passthrough");
const admin = () => callerAs(fx, "operatorAdmin");

async function enroll(driver: "ipmi" | "redfish", address: string, username: string, password: string) {
  const name = uniq(`pt-${driver}`);
  const r = await admin().nodes.enroll({ name, driver, address, username, password, ...(driver === "redfish" ? { verifyTls: false } : {}) });
  expect(r.ok, JSON.stringify(r)).toBe(true);
  const [n] = await db.select().from(s.nodes).where(eq(s.nodes.name, name));
  return n!;
}

/** The lab BMC's Manager, as a client sees it. */
async function manager(): Promise<{ path: string; json: Record<string, any> }> {
  const auth = { authorization: `Basic ${Buffer.from(`${bmc.username}:${bmc.password}`).toString("base64")}` };
  const base = new URL(bmc.url).origin;
  const list = (await (await fetch(`${base}/redfish/v1/Managers`, { headers: auth })).json()) as { Members: { "@odata.id": string }[] };
  const path = list.Members[0]!["@odata.id"];
  return { path, json: (await (await fetch(`${base}${path}`, { headers: auth })).json()) as Record<string, any> };
}

const passthroughAudits = async (nodeId: string) =>
  db
    .select()
    .from(s.auditEvents)
    .where(and(eq(s.auditEvents.action, "node.passthrough"), eq(s.auditEvents.targetId, nodeId)));

describe("raw IPMI passthrough", () => {
  it("answers a command the BMC knows and reports the completion code of one it refuses", async () => {
    const n = await enroll("ipmi", ipmi.address, ipmi.username, ipmi.password);
    const sent = (cmd: number) => ipmi.messages().filter((m) => m.netfn === 0x06 && m.cmd === cmd).length;

    const before = sent(0x01);
    const [ok] = await admin().nodes.runStep({
      id: n.id,
      step: "passthrough",
      args: { passthrough: { kind: "ipmi_raw", netfn: "0x06", cmd: "0x01", data: "" } },
    });
    // Get Device ID: 11 to 15 bytes, the first being the device id ipmi_sim was configured with.
    expect(ok).toMatchObject({
      id: n.id,
      ok: true,
      message: expect.stringMatching(/^The BMC accepted the raw command; it answered ([0-9a-f]{2} ){10,14}[0-9a-f]{2}\.$/),
    });
    expect(sent(0x01)).toBeGreaterThan(before);

    const [refused] = await admin().nodes.runStep({
      id: n.id,
      step: "passthrough",
      args: { passthrough: { kind: "ipmi_raw", netfn: "06", cmd: "99", data: "01 02" } },
    });
    expect(refused).toMatchObject({
      ok: false,
      message: expect.stringMatching(/refused raw command netfn 0x06 cmd 0x99: completion code 0xc1 \(Invalid command\)$/),
    });
    expect(sent(0x99)).toBe(1); // the BMC answered no: not asked again

    // A Redfish action to an IPMI BMC is refused without a request.
    const [wrong] = await admin().nodes.runStep({
      id: n.id,
      step: "passthrough",
      args: { passthrough: { kind: "redfish_oem", path: "/redfish/v1/Managers/BMC/Actions/Oem/X.Y", body: {} } },
    });
    expect(wrong).toMatchObject({ ok: false, message: "This BMC speaks IPMI: send a raw IPMI command instead of a Redfish OEM action." });
    expect((await passthroughAudits(n.id)).map((a) => (a.details as { cmd: string }).cmd)).toEqual(["0x01", "99"]);

    const bad = await failure(
      admin().nodes.runStep({ id: n.id, step: "passthrough", args: { passthrough: { kind: "ipmi_raw", netfn: "0x100", cmd: "0x01", data: "" } } }),
    );
    expect(bad.code).toBe("BAD_REQUEST");
    expect(fieldOf(bad)).toBe("args.passthrough.netfn");
  });
});

describe("Redfish OEM passthrough", () => {
  it("runs the vendor action the BMC advertises and returns the BMC's message when it refuses the body", async () => {
    const n = await enroll("redfish", bmc.url, bmc.username, bmc.password);
    const m = await manager();
    const target = m.json.Actions.Oem["#AnvilManager.HostBmcAccess"].target as string;
    expect(target).toBe(`${m.path}/Actions/Oem/AnvilManager.HostBmcAccess`);
    expect(m.json.Oem.Anvil.HostBmcAccess).toBe("Disabled");

    const [ok] = await admin().nodes.runStep({
      id: n.id,
      step: "passthrough",
      args: { passthrough: { kind: "redfish_oem", path: target, body: { Enabled: true } } },
    });
    expect(ok).toMatchObject({ ok: true, message: "The BMC accepted AnvilManager.HostBmcAccess (HTTP 204)." });
    expect((await manager()).json.Oem.Anvil.HostBmcAccess).toBe("Enabled");

    const [refused] = await admin().nodes.runStep({
      id: n.id,
      step: "passthrough",
      args: { passthrough: { kind: "redfish_oem", path: target, body: { Enabled: "no" } } },
    });
    expect(refused!.ok).toBe(false);
    expect(refused!.message).toContain(
      "The value 'no' for the parameter Enabled in the action AnvilManager.HostBmcAccess is of a different type than the parameter can accept.",
    );
    expect((await manager()).json.Oem.Anvil.HostBmcAccess).toBe("Enabled"); // left as it was

    // Not a vendor action: another resource, another host, a walk out of /redfish/v1 — refused as input, nothing sent.
    for (const path of [`${m.path}`, "http://10.0.0.9/redfish/v1/Managers/BMC/Actions/Oem/X.Y", "/redfish/v1/../v1/Actions/Oem/X.Y"]) {
      const e = await failure(admin().nodes.runStep({ id: n.id, step: "passthrough", args: { passthrough: { kind: "redfish_oem", path, body: {} } } }));
      expect(e.code, path).toBe("BAD_REQUEST");
      expect(fieldOf(e), path).toBe("args.passthrough.path");
    }
    const [wrong] = await admin().nodes.runStep({
      id: n.id,
      step: "passthrough",
      args: { passthrough: { kind: "ipmi_raw", netfn: "0x06", cmd: "0x01", data: "" } },
    });
    expect(wrong).toMatchObject({ ok: false, message: "This BMC speaks Redfish: send a Redfish OEM action instead of a raw IPMI command." });
    expect((await passthroughAudits(n.id)).map((a) => (a.details as { body: unknown }).body)).toEqual([{ Enabled: true }, { Enabled: "no" }]);
  });
});
