// Protocol tests of the Redfish simulator over real HTTP: service root, authentication and sessions,
// resource discovery (host -> DPU), ETag/If-Match, boot override validation, 404/405/400, VirtualMedia, SEL.
// biome-ignore-all lint/suspicious/noExplicitAny: parsed Redfish JSON bodies are untyped; tests read them as such

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sharedImageServer } from "@/test/image-server";
import { hardwareFor, macFor } from "../fleet";
import { type RedfishSim, startRedfishSim } from "./index";
import { basic, rf, systemOf } from "./test-helpers";

let sim: RedfishSim;

beforeAll(async () => {
  sim = await startRedfishSim({ hosts: 3, dpuEvery: 2, powerTransitionMs: 20, bootMs: 50 });
});
afterAll(async () => {
  await sim.close();
});

const host = () => sim.byId("node-0001")!;
const dpu = () => sim.byId("node-0001-dpu")!;

describe("service root and authentication", () => {
  it("serves the ServiceRoot without credentials, with links to every service", async () => {
    const r = await rf(host(), "/redfish/v1/", { auth: "none" });
    expect(r.status).toBe(200);
    expect(r.headers.get("odata-version")).toBe("4.0");
    for (const k of ["Systems", "Chassis", "Managers", "SessionService", "EventService", "TaskService", "UpdateService"]) {
      expect(r.json[k]["@odata.id"]).toMatch(/^\/redfish\/v1\//);
    }
    expect(r.json.Links.Sessions["@odata.id"]).toBe("/redfish/v1/SessionService/Sessions");
    // Trailing-slash-less form is the same resource.
    expect((await rf(host(), "/redfish/v1", { auth: "none" })).json.UUID).toBe(r.json.UUID);
  });

  it("rejects missing and wrong credentials with 401 and a Redfish error body", async () => {
    const none = await rf(host(), "/redfish/v1/Systems", { auth: "none" });
    expect(none.status).toBe(401);
    expect(none.headers.get("www-authenticate")).toMatch(/^Basic/);
    expect(none.json.error["@Message.ExtendedInfo"][0].MessageId).toMatch(/NoValidSession$/);
    const wrong = await rf(host(), "/redfish/v1/Systems", { auth: { user: "admin", password: "nope" } });
    expect(wrong.status).toBe(401);
    expect(wrong.json.error.code).toMatch(/^Base\.1\.\d+\./);
    expect(wrong.json.error["@Message.ExtendedInfo"].length).toBeGreaterThan(0);
    const badToken = await rf(host(), "/redfish/v1/Systems", { auth: { token: "forged" } });
    expect(badToken.status).toBe(401);
  });

  it("logs in with a session, uses the token, and logs out", async () => {
    const bad = await rf(host(), "/redfish/v1/SessionService/Sessions", { auth: "none", body: { UserName: "admin", Password: "x" } });
    expect(bad.status).toBe(401);
    const missing = await rf(host(), "/redfish/v1/SessionService/Sessions", { auth: "none", body: { UserName: "admin" } });
    expect(missing.status).toBe(400);
    expect(missing.json.error["@Message.ExtendedInfo"][0].MessageId).toMatch(/PropertyMissing$/);

    const login = await rf(host(), "/redfish/v1/SessionService/Sessions", { auth: "none", body: { UserName: "admin", Password: "password" } });
    expect(login.status).toBe(201);
    const token = login.headers.get("x-auth-token")!;
    const location = login.headers.get("location")!;
    expect(token.length).toBeGreaterThan(20);
    expect(location).toMatch(/^\/redfish\/v1\/SessionService\/Sessions\/\w+$/);
    expect(login.json.UserName).toBe("admin");

    expect((await rf(host(), "/redfish/v1/Systems", { auth: { token } })).status).toBe(200);
    const list = await rf(host(), "/redfish/v1/SessionService/Sessions", { auth: { token } });
    expect(list.json.Members.map((m: any) => m["@odata.id"])).toContain(location);
    // A token belongs to the BMC that issued it.
    expect((await rf(sim.byId("node-0002")!, "/redfish/v1/Systems", { auth: { token } })).status).toBe(401);

    expect((await rf(host(), location, { method: "DELETE", auth: { token } })).status).toBe(204);
    expect((await rf(host(), "/redfish/v1/Systems", { auth: { token } })).status).toBe(401);
    expect((await rf(host(), location, { method: "DELETE" })).status).toBe(404);
  });
});

describe("resource tree and discovery", () => {
  it("describes the host: power, status, hardware, boot, console, reset action", async () => {
    const s = await systemOf(host());
    expect(s.PowerState).toBe("Off");
    expect(s.Status).toMatchObject({ Health: "OK" });
    const hw = hardwareFor(0);
    expect(s.ProcessorSummary).toMatchObject({ Count: hw.cpuCount, CoreCount: hw.cpuCount * hw.coresPerCpu, Model: hw.cpuModel });
    expect(s.MemorySummary.TotalSystemMemoryGiB).toBe(hw.memoryGiB);
    expect(s.Boot["BootSourceOverrideTarget@Redfish.AllowableValues"]).toEqual(expect.arrayContaining(["Pxe", "Hdd", "Cd", "UefiHttp", "None"]));
    expect(s.BootProgress.LastState).toBe("None");
    expect(s.SerialConsole.WebSocket).toMatchObject({ ServiceEnabled: true, Interactive: true });
    expect(s.SerialConsole.WebSocket.ConsoleURI).toMatch(/^ws:\/\/127\.0\.0\.1:\d+\//);
    const reset = s.Actions["#ComputerSystem.Reset"];
    expect(reset["ResetType@Redfish.AllowableValues"]).toEqual(["On", "ForceOff", "GracefulShutdown", "GracefulRestart", "ForceRestart", "PowerCycle", "Nmi"]);
    // The target is not the conventional URL, so a client that builds URLs instead of following them fails.
    expect(reset.target).not.toBe(`${s["@odata.id"]}/Actions/ComputerSystem.Reset`);
    const conventional = await rf(host(), `${s["@odata.id"]}/Actions/ComputerSystem.Reset`, { body: { ResetType: "On" } });
    expect(conventional.status).toBe(404);
    expect(s.Oem.Anvil.DpuBmcUrl).toBe(dpu().url);
  });

  it("lists one Processor per socket, consistent with ProcessorSummary", async () => {
    const s = await systemOf(host());
    const col = await rf(host(), s.Processors["@odata.id"]);
    expect(col.json["Members@odata.count"]).toBe(s.ProcessorSummary.Count);
    const cpu = await rf(host(), col.json.Members[0]["@odata.id"]);
    expect(cpu.json).toMatchObject({ ProcessorType: "CPU", ProcessorArchitecture: "x86", Model: s.ProcessorSummary.Model });
    expect(cpu.json.TotalCores * s.ProcessorSummary.Count).toBe(s.ProcessorSummary.CoreCount);
    const dpuCpu = await rf(dpu(), "/redfish/v1/Systems/Bluefield/Processors/CPU1");
    expect(dpuCpu.json.ProcessorArchitecture).toBe("ARM");
    expect((await rf(host(), `${s.Processors["@odata.id"]}/CPU99`)).status).toBe(404);
  });

  it("varies hardware across hosts deterministically", () => {
    const classes = new Set(Array.from({ length: 40 }, (_, i) => hardwareFor(i).className));
    expect(classes.size).toBeGreaterThanOrEqual(3);
    expect(hardwareFor(17)).toEqual(hardwareFor(17));
  });

  it("lists deterministic MACs in EthernetInterfaces", async () => {
    const s = await systemOf(host());
    const col = await rf(host(), s.EthernetInterfaces["@odata.id"]);
    expect(col.json["Members@odata.count"]).toBe(2);
    const nic = await rf(host(), col.json.Members[0]["@odata.id"]);
    expect(nic.json.MACAddress).toBe(macFor(0, 0));
    const other = await systemOf(sim.byId("node-0002")!);
    const nic2 = await rf(sim.byId("node-0002")!, `${other.EthernetInterfaces["@odata.id"]}/NIC.1`);
    expect(nic2.json.MACAddress).toBe(macFor(1, 0));
    expect(nic2.json.MACAddress).not.toBe(nic.json.MACAddress);
  });

  it("leads from the host's NetworkDeviceFunction to the DPU system on the DPU BMC, and back", async () => {
    const chassisCol = await rf(host(), "/redfish/v1/Chassis");
    const chassis = await rf(host(), chassisCol.json.Members[0]["@odata.id"]);
    const adapters = await rf(host(), chassis.json.NetworkAdapters["@odata.id"]);
    const adapter = await rf(host(), adapters.json.Members[0]["@odata.id"]);
    const fns = await rf(host(), adapter.json.NetworkDeviceFunctions["@odata.id"]);
    const fnPath = fns.json.Members[0]["@odata.id"];
    const fn = await rf(host(), fnPath);
    const offload: string = fn.json.Links.OffloadSystem["@odata.id"];
    expect(offload.startsWith(dpu().url)).toBe(true);

    const dpuSys = await rf(dpu(), offload);
    expect(dpuSys.status).toBe(200);
    expect(dpuSys.json.SystemType).toBe("DPU");
    expect(dpuSys.json.Id).toBe("Bluefield");
    expect(dpuSys.json.Oem.Anvil.AgentUrl).toBeNull();
    expect(dpuSys.json.Links.OffloadedNetworkDeviceFunctions[0]["@odata.id"]).toBe(`${host().url}${fnPath}`);

    // A host without a DPU has no offload link.
    const plain = sim.byId("node-0002")!;
    expect(plain.dpuId).toBeUndefined();
    const p = await systemOf(plain);
    expect(p.Oem.Anvil.DpuBmcUrl).toBeNull();
  });

  it("serves Managers, TaskService and UpdateService with firmware inventory", async () => {
    const mgrs = await rf(dpu(), "/redfish/v1/Managers");
    expect(mgrs.json.Members[0]["@odata.id"]).toBe("/redfish/v1/Managers/Bluefield_BMC");
    const inv = await rf(dpu(), "/redfish/v1/UpdateService/FirmwareInventory");
    const ids = inv.json.Members.map((m: any) => m["@odata.id"].split("/").pop());
    expect(ids).toEqual(expect.arrayContaining(["BMC_Firmware", "DPU_ATF", "DPU_NIC", "DPU_OS"]));
    expect((await rf(host(), "/redfish/v1/TaskService")).json.Tasks["@odata.id"]).toBe("/redfish/v1/TaskService/Tasks");
  });
});

describe("errors", () => {
  it("answers 404 for unknown paths and 405 for wrong methods", async () => {
    const nf = await rf(host(), "/redfish/v1/Systems/NoSuchSystem");
    expect(nf.status).toBe(404);
    expect(nf.json.error["@Message.ExtendedInfo"][0].MessageId).toMatch(/ResourceMissingAtURI$/);
    expect((await rf(host(), "/not-redfish")).status).toBe(404);
    const na = await rf(host(), "/redfish/v1/Systems", { method: "DELETE" });
    expect(na.status).toBe(405);
    expect(na.headers.get("allow")).toBe("GET");
    expect((await rf(host(), "/redfish/v1/Systems/System.Embedded.1", { method: "PUT", body: {} })).status).toBe(405);
  });

  it("answers 400 MalformedJSON for a broken body", async () => {
    const s = await systemOf(host());
    const r = await rf(host(), s["@odata.id"], { method: "PATCH", raw: '{"Boot": {' });
    expect(r.status).toBe(400);
    expect(r.json.error["@Message.ExtendedInfo"][0].MessageId).toMatch(/MalformedJSON$/);
    const arr = await rf(host(), s.Actions["#ComputerSystem.Reset"].target, { raw: "[1,2]" });
    expect(arr.status).toBe(400);
  });

  it("rejects an unknown ResetType with ExtendedInfo naming the parameter", async () => {
    const s = await systemOf(host());
    const target = s.Actions["#ComputerSystem.Reset"].target;
    const r = await rf(host(), target, { body: { ResetType: "Explode" } });
    expect(r.status).toBe(400);
    const info = r.json.error["@Message.ExtendedInfo"][0];
    expect(info.MessageId).toMatch(/ActionParameterValueNotInList$/);
    expect(info.MessageArgs).toEqual(["Explode", "ResetType", "ComputerSystem.Reset"]);
    const missing = await rf(host(), target, { body: {} });
    expect(missing.json.error["@Message.ExtendedInfo"][0].MessageId).toMatch(/ActionParameterMissing$/);
    const extra = await rf(host(), target, { body: { ResetType: "On", Force: true } });
    expect(extra.status).toBe(400);
    expect(extra.json.error["@Message.ExtendedInfo"][0].MessageId).toMatch(/ActionParameterUnknown$/);
    expect(await (await systemOf(host())).PowerState).toBe("Off");
  });
});

describe("boot override PATCH with ETag", () => {
  it("updates the override with a current If-Match and returns a new ETag", async () => {
    const h = sim.byId("node-0003")!;
    const get = await rf(h, "/redfish/v1/Systems/System.Embedded.1");
    const etag = get.headers.get("etag")!;
    expect(etag).toMatch(/^"[^"]+"$/);
    const r = await rf(h, "/redfish/v1/Systems/System.Embedded.1", {
      method: "PATCH",
      headers: { "if-match": etag },
      body: { Boot: { BootSourceOverrideEnabled: "Once", BootSourceOverrideTarget: "Pxe", BootSourceOverrideMode: "UEFI" } },
    });
    expect(r.status).toBe(200);
    expect(r.json.Boot).toMatchObject({ BootSourceOverrideEnabled: "Once", BootSourceOverrideTarget: "Pxe" });
    expect(r.headers.get("etag")).not.toBe(etag);

    // The old ETag is now stale.
    const stale = await rf(h, "/redfish/v1/Systems/System.Embedded.1", {
      method: "PATCH",
      headers: { "if-match": etag },
      body: { Boot: { BootSourceOverrideTarget: "Hdd" } },
    });
    expect(stale.status).toBe(412);
    expect(stale.json.error["@Message.ExtendedInfo"][0].MessageId).toMatch(/PreconditionFailed$/);
    expect((await systemOf(h)).Boot.BootSourceOverrideTarget).toBe("Pxe");

    // If-None-Match with the current ETag: 304.
    const now = await rf(h, "/redfish/v1/Systems/System.Embedded.1");
    const cached = await rf(h, "/redfish/v1/Systems/System.Embedded.1", { headers: { "if-none-match": now.headers.get("etag")! } });
    expect(cached.status).toBe(304);
  });

  it("rejects invalid values, read-only and unknown properties with ExtendedInfo naming each", async () => {
    const h = sim.byId("node-0003")!;
    const r = await rf(h, "/redfish/v1/Systems/System.Embedded.1", {
      method: "PATCH",
      body: { Boot: { BootSourceOverrideTarget: "Floppy", BootSourceOverrideEnabled: 3 }, PowerState: "On", Colour: "red" },
    });
    expect(r.status).toBe(400);
    const infos = r.json.error["@Message.ExtendedInfo"];
    const byId = (suffix: string) => infos.find((i: any) => i.MessageId.endsWith(suffix));
    expect(byId("PropertyValueNotInList").MessageArgs).toEqual(["Floppy", "BootSourceOverrideTarget"]);
    expect(byId("PropertyValueNotInList").RelatedProperties).toEqual(["#/Boot/BootSourceOverrideTarget"]);
    expect(byId("PropertyValueTypeError").MessageArgs[1]).toBe("BootSourceOverrideEnabled");
    expect(byId("PropertyNotWritable").MessageArgs).toEqual(["PowerState"]);
    expect(byId("PropertyUnknown").MessageArgs).toEqual(["Colour"]);
    // Nothing was applied.
    expect((await systemOf(h)).Boot.BootSourceOverrideTarget).not.toBe("Floppy");
  });
});

describe("VirtualMedia and SEL", () => {
  it("inserts and ejects a CD image through the advertised actions", async () => {
    const s = await systemOf(host());
    const col = await rf(host(), s.VirtualMedia["@odata.id"]);
    const cdPath = col.json.Members[0]["@odata.id"];
    const cd = await rf(host(), cdPath);
    expect(cd.json.Inserted).toBe(false);
    const insert = cd.json.Actions["#VirtualMedia.InsertMedia"].target;
    const eject = cd.json.Actions["#VirtualMedia.EjectMedia"].target;

    const bad = await rf(host(), insert, { body: { Inserted: true } });
    expect(bad.status).toBe(400);
    expect(bad.json.error["@Message.ExtendedInfo"][0].MessageArgs).toContain("Image");

    // The BMC fetches the image: a refused connection or a missing file is refused at insert, and nothing is mounted.
    const images = await sharedImageServer();
    images.serve("/ubuntu-24.04.iso", Buffer.alloc(2048, 1));
    const refused = await rf(host(), insert, { body: { Image: "http://127.0.0.1:9/ubuntu-24.04.iso" } });
    expect(refused.status).toBe(400);
    expect(refused.json.error["@Message.ExtendedInfo"][0]).toMatchObject({ MessageId: "Base.1.18.CouldNotEstablishConnection" });
    expect(refused.json.error["@Message.ExtendedInfo"][0].Message).toMatch(/127\.0\.0\.1:9.*ECONNREFUSED/);
    const missing = await rf(host(), insert, { body: { Image: `${images.url}/no-such.iso` } });
    expect(missing.status).toBe(400);
    expect(missing.json.error["@Message.ExtendedInfo"][0].Message).toMatch(/HTTP 404/);
    expect((await rf(host(), cdPath)).json.Inserted).toBe(false);

    const image = `${images.url}/ubuntu-24.04.iso`;
    const ok = await rf(host(), insert, { body: { Image: image, Inserted: true, WriteProtected: true } });
    expect(ok.status).toBe(204);
    const after = await rf(host(), cdPath);
    expect(after.json).toMatchObject({ Image: image, ImageName: "ubuntu-24.04.iso", Inserted: true, ConnectedVia: "URI" });
    expect((await rf(host(), insert, { body: { Image: `${images.url}/other.iso` } })).status).toBe(409);

    expect((await rf(host(), eject, { body: {} })).status).toBe(204);
    expect((await rf(host(), cdPath)).json).toMatchObject({ Image: null, Inserted: false });
  });

  it("lists SEL entries with the LogEntry fields", async () => {
    const s = await systemOf(host());
    const services = await rf(host(), s.LogServices["@odata.id"]);
    const sel = await rf(host(), services.json.Members[0]["@odata.id"]);
    expect(sel.json.LogEntryType).toBe("SEL");
    const entries = await rf(host(), sel.json.Entries["@odata.id"]);
    expect(entries.json.Members.length).toBeGreaterThan(0);
    const e = entries.json.Members[0];
    for (const k of ["Id", "Created", "EntryType", "Severity", "Message", "MessageId", "SensorType"]) expect(e).toHaveProperty(k);
    expect(e.EntryType).toBe("SEL");
    expect(Number.isNaN(Date.parse(e.Created))).toBe(false);
    expect((await rf(host(), e["@odata.id"])).json.Id).toBe(e.Id);
  });

  it("accepts Basic credentials built by any client", async () => {
    const r = await rf(host(), "/redfish/v1/Managers", { auth: "none", headers: { authorization: basic("admin", "password") } });
    expect(r.status).toBe(200);
  });
});
