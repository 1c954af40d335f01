// The simulator's Redfish dialects over real HTTP: each preset serves the shape it models (several systems on one
// BMC, DMTF's DPU topology, a sticky boot override, no session service, consoles on the Manager or nowhere, logs
// not named SEL, virtual media by PATCH, a TLS-only port), and the admin API switches behaviour per BMC.
// biome-ignore-all lint/suspicious/noExplicitAny: parsed Redfish JSON bodies are untyped; tests read them as such

import net from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sharedImageServer } from "@/test/image-server";
import { type RedfishSim, startRedfishSim } from "./index";
import { basic, ConsoleClient, rf, waitFor } from "./test-helpers";

let sim: RedfishSim;

// One simulator, one dialect per host: 0-1 multi-node (one BMC), 2 dmtf-smartnic (+DPU on the same BMC),
// 3 sticky-boot, 4 basic-auth, 5 dmtf-rackmount, 6 ipmi-console, 7 no-console, 8 tls-only.
const DIALECT_OF = [
  "multi-node",
  "multi-node",
  "dmtf-smartnic",
  "sticky-boot",
  "basic-auth",
  "dmtf-rackmount",
  "ipmi-console",
  "no-console",
  "tls-only",
] as const;

beforeAll(async () => {
  sim = await startRedfishSim({ hosts: DIALECT_OF.length, dpuEvery: 0, dialect: (i) => DIALECT_OF[i], powerTransitionMs: 20, bootMs: 30 });
});
afterAll(async () => {
  await sim?.close();
  await smartnic?.close();
});

const b = (i: number) => sim.byId(`node-000${i + 1}`)!;

async function admin(method: string, path: string, body?: unknown): Promise<{ status: number; json: any }> {
  const r = await fetch(`${sim.adminUrl}${path}`, {
    method,
    headers: body ? { "content-type": "application/json" } : {},
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await r.text();
  return { status: r.status, json: text ? JSON.parse(text) : null };
}

describe("multi-node: several systems behind one BMC", () => {
  it("serves Systems/1 and Systems/2 at one address, each with its own power", async () => {
    const [n1, n2] = [b(0), b(1)];
    expect(n1.baseUrl).toBe(n2.baseUrl);
    expect(n1.url).toBe(`${n1.baseUrl}/redfish/v1/Systems/1`);
    expect(n2.url).toBe(`${n2.baseUrl}/redfish/v1/Systems/2`);
    const systems = await rf(n1, "/redfish/v1/Systems");
    expect(systems.json.Members.map((m: any) => m["@odata.id"])).toEqual(["/redfish/v1/Systems/1", "/redfish/v1/Systems/2"]);
    const s2 = (await rf(n2, "/redfish/v1/Systems/2")).json;
    expect(s2.Links.Chassis[0]["@odata.id"]).toBe("/redfish/v1/Chassis/2");
    expect((await rf(n1, s2.Actions["#ComputerSystem.Reset"].target, { body: { ResetType: "On" } })).status).toBe(204);
    await waitFor("node 2 on", async () => (await rf(n2, "/redfish/v1/Systems/2")).json.PowerState === "On");
    expect((await rf(n1, "/redfish/v1/Systems/1")).json.PowerState).toBe("Off");
    const mgr = (await rf(n1, "/redfish/v1/Managers/BMC")).json;
    expect(mgr.Links.ManagerForServers.map((m: any) => m["@odata.id"])).toEqual(["/redfish/v1/Systems/1", "/redfish/v1/Systems/2"]);
    expect((await admin("GET", `/admin/bmcs/${n2.id}`)).json).toMatchObject({ dialect: "multi-node", address: n2.url, sharesBmcWith: [n1.id] });
  });
});

let smartnic: RedfishSim | undefined;
describe("dmtf-smartnic: the DPU is a second system of the host's BMC", () => {
  it("links the card's chassis from the host's (Contains) and the DPU system by path, without a serial console or SEL", async () => {
    smartnic = await startRedfishSim({ hosts: 1, dialect: "dmtf-smartnic", powerTransitionMs: 20, bootMs: 30 });
    const [host, dpu] = smartnic.bmcs;
    expect(host.url).toBe(host.baseUrl);
    expect(dpu.url).toBe(`${host.baseUrl}/redfish/v1/Systems/Card1-SoC`);
    const systems = (await rf(host, "/redfish/v1/Systems")).json.Members.map((m: any) => m["@odata.id"]);
    expect(systems).toEqual(["/redfish/v1/Systems/437XR1138R2", "/redfish/v1/Systems/Card1-SoC"]);
    const hostSys = (await rf(host, systems[0])).json;
    const dpuSys = (await rf(host, systems[1])).json;
    expect(hostSys.SystemType).toBe("Physical");
    expect(hostSys.SerialConsole).toBeUndefined();
    expect(hostSys.Oem.Anvil.DpuBmcUrl).toBeUndefined();
    expect(dpuSys.SystemType).toBe("DPU");
    expect(dpuSys.Links.OffloadedNetworkDeviceFunctions[0]["@odata.id"]).toBe(
      "/redfish/v1/Chassis/Card1/NetworkAdapters/Slot1/NetworkDeviceFunctions/SC2KP1F0",
    );
    const c1u = (await rf(host, "/redfish/v1/Chassis/1U")).json;
    expect(c1u.Links.Contains).toEqual([{ "@odata.id": "/redfish/v1/Chassis/Card1" }]);
    expect(c1u.NetworkAdapters).toBeUndefined();
    const card = (await rf(host, "/redfish/v1/Chassis/Card1")).json;
    expect(card.Links.ComputerSystems).toEqual([{ "@odata.id": "/redfish/v1/Systems/Card1-SoC" }]);
    expect(card.Links.ContainedBy).toEqual({ "@odata.id": "/redfish/v1/Chassis/1U" });
    const fn = (await rf(host, "/redfish/v1/Chassis/Card1/NetworkAdapters/Slot1/NetworkDeviceFunctions/SC2KP1F0")).json;
    expect(fn.Links.OffloadSystem).toEqual({ "@odata.id": "/redfish/v1/Systems/Card1-SoC" });
    const logs = (await rf(host, `${systems[0]}/LogServices`)).json.Members.map((m: any) => m["@odata.id"]);
    expect(logs).toEqual(["/redfish/v1/Systems/437XR1138R2/LogServices/Log1"]);
    expect((await rf(host, logs[0])).json.LogEntryType).toBeUndefined();
    // Power coupling holds on one BMC as on two: the card needs its host's power.
    expect((await rf(host, dpuSys.Actions["#ComputerSystem.Reset"].target, { body: { ResetType: "On" } })).status).toBe(204);
    await waitFor("host on with its DPU", async () => (await rf(host, systems[0])).json.PowerState === "On");
  });
});

describe("sticky-boot: Once is kept as Continuous; cleared only by Target None", () => {
  it("stores what it does, not what it was asked, and refuses Disabled", async () => {
    const h = b(3);
    const path = "/redfish/v1/Systems/System.Embedded.1";
    const before = (await rf(h, path)).json.Boot;
    expect(before["BootSourceOverrideEnabled@Redfish.AllowableValues"]).toEqual(["Once", "Continuous"]);
    expect((await rf(h, path, { method: "PATCH", body: { Boot: { BootSourceOverrideEnabled: "Once", BootSourceOverrideTarget: "Hdd" } } })).status).toBe(200);
    expect((await rf(h, path)).json.Boot).toMatchObject({ BootSourceOverrideEnabled: "Continuous", BootSourceOverrideTarget: "Hdd" });
    for (const body of [{ BootSourceOverrideEnabled: "Disabled" }, { BootSourceOverrideEnabled: "Disabled", BootSourceOverrideTarget: "None" }]) {
      const r = await rf(h, path, { method: "PATCH", body: { Boot: body } });
      expect(r.status).toBe(400);
      expect(r.json.error["@Message.ExtendedInfo"][0].MessageId).toMatch(/PropertyValueNotInList$/);
    }
    expect((await rf(h, path, { method: "PATCH", body: { Boot: { BootSourceOverrideTarget: "None" } } })).status).toBe(200);
    expect((await admin("GET", `/admin/bmcs/${h.id}`)).json.bootOverride).toMatchObject({ target: "None" });
  });
});

describe("basic-auth: no SessionService", () => {
  it("advertises no sessions and answers 404 to a login; Basic works", async () => {
    const h = b(4);
    const root = (await rf(h, "/redfish/v1/", { auth: "none" })).json;
    expect(root.SessionService).toBeUndefined();
    expect(root.Links.Sessions).toBeUndefined();
    expect((await rf(h, "/redfish/v1/SessionService/Sessions", { auth: "none", body: { UserName: "admin", Password: "password" } })).status).toBe(404);
    expect((await rf(h, "/redfish/v1/Systems")).status).toBe(200);
  });
});

describe("dmtf-rackmount: console on the Manager, logs not named SEL, virtual media by PATCH", () => {
  it("advertises the serial console on the Manager only, with SSH/IPMI ports in NetworkProtocol", async () => {
    const h = b(5);
    const sys = (await rf(h, "/redfish/v1/Systems/437XR1138R2")).json;
    expect(sys.SerialConsole).toBeUndefined();
    const mgr = (await rf(h, sys.Links.ManagedBy[0]["@odata.id"])).json;
    expect(mgr.SerialConsole).toEqual({ ServiceEnabled: true, MaxConcurrentSessions: 1, ConnectTypesSupported: ["Telnet", "SSH", "IPMI"] });
    expect(mgr.CommandShell.ConnectTypesSupported).toEqual(["Telnet", "SSH"]);
    const np = (await rf(h, mgr.NetworkProtocol["@odata.id"])).json;
    expect(np.SSH).toEqual({ ProtocolEnabled: true, Port: 22 });
    expect(np.IPMI).toEqual({ ProtocolEnabled: true, Port: 623 });
  });

  it("keeps hardware entries in Log1 and the Manager's Log, and lists Log1 again under the chassis", async () => {
    const h = b(5);
    expect(
      (await admin("POST", `/admin/bmcs/${h.id}/sel`, { Severity: "Critical", Message: "Temperature threshold exceeded", SensorType: "Temperature" })).status,
    ).toBe(201);
    expect(
      (await admin("POST", `/admin/bmcs/${h.id}/sel`, { Severity: "Warning", Message: "System May be Melting", SensorType: "Temperature", Log: "manager" }))
        .status,
    ).toBe(201);
    const log1 = (await rf(h, "/redfish/v1/Systems/437XR1138R2/LogServices/Log1/Entries")).json.Members;
    expect(log1.at(-1)).toMatchObject({ EntryType: "SEL", Severity: "Critical", Message: "Temperature threshold exceeded" });
    const mlog = (await rf(h, "/redfish/v1/Managers/BMC/LogServices/Log/Entries")).json.Members;
    expect(mlog.at(-1)).toMatchObject({ EntryType: "Event", Severity: "Warning", Message: "System May be Melting" });
    const chassisLogs = (await rf(h, "/redfish/v1/Chassis/1U/LogServices")).json.Members;
    expect(chassisLogs).toEqual([{ "@odata.id": "/redfish/v1/Systems/437XR1138R2/LogServices/Log1" }]);
    expect((await rf(h, "/redfish/v1/Systems/437XR1138R2/LogServices/SEL")).status).toBe(404);
  });

  it("mounts and ejects virtual media by PATCH (no actions)", async () => {
    const h = b(5);
    const cd = "/redfish/v1/Systems/437XR1138R2/VirtualMedia/CD1";
    expect((await rf(h, cd)).json.Actions).toBeUndefined();
    const images = await sharedImageServer();
    images.serve("/a.iso", Buffer.alloc(2048, 1));
    const image = `${images.url}/a.iso`;
    expect((await rf(h, `${cd}/Actions/VirtualMedia.InsertMedia`, { body: { Image: image } })).status).toBe(404);
    // Fetched first like the actions' insert: an image that is not there is refused.
    expect((await rf(h, cd, { method: "PATCH", body: { Image: `${images.url}/gone.iso`, Inserted: true } })).status).toBe(400);
    const ins = await rf(h, cd, { method: "PATCH", body: { Image: image, Inserted: true, WriteProtected: true } });
    expect(ins.status).toBe(200);
    expect(ins.json).toMatchObject({ Image: image, Inserted: true, WriteProtected: true });
    expect((await rf(h, cd, { method: "PATCH", body: { Image: null, Inserted: false } })).json).toMatchObject({ Image: null, Inserted: false });
    // The lab dialect has actions and refuses PATCH.
    expect((await rf(b(3), "/redfish/v1/Systems/System.Embedded.1/VirtualMedia/CD", { method: "PATCH", body: { Image: "http://x/a.iso" } })).status).toBe(405);
  });
});

describe("consoles", () => {
  it("ipmi-console advertises SerialConsole.IPMI with its port; no-console advertises nothing and serves no WebSocket", async () => {
    const ipmi = (await rf(b(6), "/redfish/v1/Systems/System.Embedded.1")).json.SerialConsole;
    expect(ipmi.IPMI).toMatchObject({ ServiceEnabled: true, Port: 623 });
    expect(ipmi.WebSocket).toBeUndefined();
    const none = (await rf(b(7), "/redfish/v1/Systems/System.Embedded.1")).json;
    expect(none.SerialConsole).toBeUndefined();
    const ws = `${b(7).baseUrl.replace("http:", "ws:")}/console/System.Embedded.1`;
    await expect(ConsoleClient.open(ws, { authorization: basic("admin", "password") })).rejects.toThrow(/HTTP 404/);
  });
});

describe("tls-only: HTTPS on the port of an otherwise plain-HTTP lab", () => {
  it("answers TLS, and a plain HTTP request gets no HTTP answer", async () => {
    const h = b(8);
    expect(h.url.startsWith("https://")).toBe(true);
    expect(b(3).url.startsWith("http://")).toBe(true);
    const u = new URL(h.url);
    const reply = await new Promise<string>((resolve) => {
      const s = net.connect(Number(u.port), u.hostname, () => s.write(`GET /redfish/v1/ HTTP/1.1\r\nHost: ${u.host}\r\n\r\n`));
      let got = "";
      s.on("data", (d) => {
        got += d.toString("latin1");
      });
      s.on("close", () => resolve(got));
      s.on("error", () => resolve(got));
    });
    expect(reply.startsWith("HTTP/")).toBe(false);
  });
});

describe("admin API", () => {
  it("lists the presets, switches a BMC's behaviour at run time, and refuses a topology change", async () => {
    const presets = (await admin("GET", "/admin/dialects")).json;
    expect(Object.keys(presets)).toEqual(
      expect.arrayContaining(["lab", "multi-node", "dmtf-smartnic", "dmtf-rackmount", "sticky-boot", "basic-auth", "no-console", "tls-only"]),
    );
    const h = b(4); // basic-auth
    const r = await admin("PUT", `/admin/bmcs/${h.id}/dialect`, { preset: "lab", console: "none" });
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({ name: "lab+console", sessions: true, console: "none" });
    expect((await rf(h, "/redfish/v1/", { auth: "none" })).json.SessionService).toBeDefined();
    expect((await rf(h, "/redfish/v1/Systems/System.Embedded.1")).json.SerialConsole).toBeUndefined();
    const topo = await admin("PUT", `/admin/bmcs/${h.id}/dialect`, { systemsPerBmc: 2 });
    expect(topo.status).toBe(409);
    expect(topo.json.error).toMatch(/systemsPerBmc is fixed when the simulator starts/);
    expect((await admin("PUT", `/admin/bmcs/${h.id}/dialect`, { console: "telnet" })).status).toBe(400);
    await admin("PUT", `/admin/bmcs/${h.id}/dialect`, { preset: "basic-auth" });
  });

  it("refuses an unknown preset at start", async () => {
    await expect(startRedfishSim({ hosts: 1, dialect: "ilo-7" as never })).rejects.toThrow(/unknown Redfish dialect 'ilo-7' \(known: lab, multi-node/);
  });
});
