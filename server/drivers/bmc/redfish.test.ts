// The Redfish driver against the lab's Redfish BMC simulator (sim/redfish), over real HTTP(S): sessions and
// Basic auth, power with transition timing, boot override with ETag retry, inventory with the host → DPU
// BMC link, health/SEL, virtual media, firmware tasks, SSE events, console URI, fault injection, TLS and
// probeRedfish. A rewriting proxy (redfish-test-proxy.ts) plays BMCs that differ from the lab's.
// biome-ignore-all lint/suspicious/noExplicitAny: admin API and Redfish JSON are read untyped here
import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RedfishSim, type SimBmc, startRedfishSim } from "@/sim/redfish";
import { createBmcDriver } from "./index";
import { probeRedfish, RedfishDriver } from "./redfish";
import { type RedfishProxy, startRedfishProxy } from "./redfish-test-proxy";
import { BmcError, type BmcLiveEvent, type PowerState } from "./types";
import { sharedImageServer } from "@/test/image-server";
import { rejection } from "@/test/rejection";

let sim: RedfishSim;
let host1: SimBmc;
let dpu1: SimBmc;
let host2: SimBmc;
let dpu2: SimBmc;
const cleanup: Array<() => Promise<unknown>> = [];

const TRANSITION_MS = 150;

beforeAll(async () => {
  sim = await startRedfishSim({ hosts: 2, powerTransitionMs: TRANSITION_MS, bootMs: 100, updateMs: 400 });
  [host1, dpu1, host2, dpu2] = sim.bmcs;
});

afterAll(async () => {
  for (const c of cleanup.reverse()) await c().catch(() => {});
  await sim?.close();
});

function driver(b: SimBmc | string, o: { password?: string; timeoutMs?: number; retries?: number; verifyTls?: boolean; ca?: string } = {}): RedfishDriver {
  const url = typeof b === "string" ? b : b.url;
  const d = new RedfishDriver(
    {
      driver: "redfish",
      address: url,
      credentials: { username: "admin", password: o.password ?? "password" },
      timeoutMs: o.timeoutMs ?? 5000,
      retries: o.retries,
      verifyTls: o.verifyTls,
    },
    { backoffMs: 30, ...(o.ca ? { ca: o.ca } : {}) },
  );
  cleanup.push(() => d.close());
  return d;
}

async function proxy(b: SimBmc, hooks: Parameters<typeof startRedfishProxy>[1]): Promise<RedfishProxy> {
  const p = await startRedfishProxy(b.url, hooks);
  cleanup.push(() => p.close());
  return p;
}

async function admin(method: string, path: string, body?: unknown): Promise<any> {
  const r = await fetch(`${sim.adminUrl}/admin/bmcs/${path}`, {
    method,
    headers: body === undefined ? {} : { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (r.status >= 400) throw new Error(`admin ${method} ${path}: ${r.status} ${await r.text()}`);
  return r.status === 204 || r.headers.get("content-length") === "0" ? null : r.json().catch(() => null);
}

const basicAuth = { authorization: `Basic ${Buffer.from("admin:password").toString("base64")}` };

/** Another Redfish client, straight to the BMC with Basic auth. */
async function other(b: SimBmc, method: string, path: string, body?: unknown): Promise<{ status: number; json: any; headers: Headers }> {
  const r = await fetch(`${b.url}${path}`, {
    method,
    headers: { ...basicAuth, ...(body === undefined ? {} : { "content-type": "application/json" }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await r.text();
  return { status: r.status, json: text ? JSON.parse(text) : null, headers: r.headers };
}

async function sessionCount(b: SimBmc): Promise<number> {
  return (await other(b, "GET", "/redfish/v1/SessionService/Sessions")).json["Members@odata.count"];
}

async function until(d: RedfishDriver, want: PowerState, ms = 3000): Promise<{ state: PowerState; seen: PowerState[]; elapsed: number }> {
  const start = Date.now();
  const seen: PowerState[] = [];
  for (;;) {
    const s = await d.getPowerState();
    if (seen.at(-1) !== s) seen.push(s);
    if (s === want || Date.now() - start > ms) return { state: s, seen, elapsed: Date.now() - start };
    await new Promise((r) => setTimeout(r, 20));
  }
}

const caught = (p: Promise<unknown>) => rejection(p, BmcError);

describe("sessions and authentication", () => {
  it("logs in once, reuses the session, and logs out on close", async () => {
    const before = await sessionCount(host1);
    const d = driver(host1);
    expect(await d.getPowerState()).toBe("off");
    await d.getInventory();
    expect(d.transport.authMode()).toBe("session");
    expect(d.transport.stats.logins).toBe(1);
    expect(await sessionCount(host1)).toBe(before + 1);
    await d.close();
    expect(await sessionCount(host1)).toBe(before);
    expect((await caught(d.getPowerState())).code).toBe("invalid");
  });

  it("logs in again once when the BMC dropped the session (401 with the old token)", async () => {
    const d = driver(host1);
    await d.getPowerState();
    const sessions = (await other(host1, "GET", "/redfish/v1/SessionService/Sessions")).json.Members;
    for (const s of sessions) expect((await other(host1, "DELETE", s["@odata.id"])).status).toBe(204);
    // Several calls hit the 401 at once: one login between them.
    const states = await Promise.all(Array.from({ length: 5 }, () => d.getPowerState()));
    expect(states).toEqual(Array(5).fill("off"));
    expect(d.transport.stats.logins).toBe(2);
    expect(d.transport.authMode()).toBe("session");
  });

  it("falls back to Basic auth when the BMC refuses a session (session limit reached)", async () => {
    const made: string[] = [];
    for (;;) {
      const r = await fetch(`${host2.url}/redfish/v1/SessionService/Sessions`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ UserName: "admin", Password: "password" }),
      });
      await r.body?.cancel();
      if (r.status !== 201) {
        expect(r.status).toBe(503);
        break;
      }
      made.push(r.headers.get("location") as string);
    }
    try {
      const d = driver(host2);
      expect(await d.getPowerState()).toBe("off");
      expect(d.transport.authMode()).toBe("basic");
      expect(d.transport.basicReason()).toMatch(/refused a session.*503/);
    } finally {
      for (const loc of made) await other(host2, "DELETE", loc);
    }
  });

  it("falls back to Basic auth when the BMC has no session service", async () => {
    const p = await proxy(host2, {
      rewrite: (path, j) => {
        if (path === "/redfish/v1/") {
          delete j.SessionService;
          delete j.Links;
        }
        return j;
      },
    });
    const d = driver(p.url);
    expect(await d.getPowerState()).toBe("off");
    expect(d.transport.authMode()).toBe("basic");
    expect(p.log.some((l) => l.method === "POST")).toBe(false);
  });

  it("refuses wrong credentials with an auth error that names the user, without retrying", async () => {
    const d = driver(host1, { password: "wrong" });
    const e = await caught(d.getPowerState());
    expect(e.code).toBe("auth");
    expect(e.transient).toBe(false);
    expect(e.message).toMatch(/refused the credentials for user "admin" \(HTTP 401/);
    expect(d.transport.stats.retries).toBe(0);
    const p = await caught(probeRedfish({ driver: "redfish", address: host1.url, credentials: { username: "admin", password: "nope" } }));
    expect(p.code).toBe("auth");
  });
});

describe("power", () => {
  it("performs every power action; transitions take the BMC's time and are visible while they run", async () => {
    const d = driver(host1);
    expect(await d.supportedPowerActions()).toEqual(["on", "off", "soft_off", "reboot", "soft_reboot", "power_cycle", "nmi"]);

    await d.setPower("on");
    const on = await until(d, "on");
    expect(on.state).toBe("on");
    expect(on.seen[0]).toBe("powering_on");
    expect(on.elapsed).toBeGreaterThanOrEqual(TRANSITION_MS - 50);
    expect((await admin("GET", host1.id)).powerState).toBe("On");

    await d.setPower("soft_off");
    const soft = await until(d, "off");
    expect(soft.seen).toEqual(["powering_off", "off"]);

    await d.setPower("power_cycle"); // from Off: powers on
    expect((await until(d, "on")).state).toBe("on");

    await d.setPower("reboot"); // ForceRestart: off, then powering on, then on
    expect((await until(d, "on")).seen).toContain("powering_on");

    await d.setPower("soft_reboot");
    expect((await until(d, "on")).seen).toContain("powering_off");

    await d.setPower("nmi");
    const nmi = await d.listEvents({ limit: 5 });
    expect(nmi.some((e) => e.messageId?.endsWith("NmiAsserted") && e.severity === "warning")).toBe(true);

    await d.setPower("off");
    expect(await d.getPowerState()).toBe("off");
    expect((await admin("GET", host1.id)).powerState).toBe("Off");
  });

  it("follows the advertised Reset target, not the conventional URL", async () => {
    const p = await proxy(host1, {});
    const d = driver(p.url);
    await d.setPower("off");
    const post = p.log.filter((l) => l.method === "POST" && !l.path.includes("Sessions"));
    expect(post.map((l) => l.path)).toEqual(["/redfish/v1/Systems/System.Embedded.1/Actions/Sim/ComputerSystem.Reset"]);
  });

  it("refuses actions the BMC does not allow, before asking it; a 404 on the action target is unsupported too", async () => {
    const p = await proxy(host1, {
      rewrite: (path, j) => {
        if (path === "/redfish/v1/Systems/System.Embedded.1")
          j.Actions["#ComputerSystem.Reset"]["ResetType@Redfish.AllowableValues"] = ["On", "ForceOff", "GracefulShutdown"];
        return j;
      },
    });
    const d = driver(p.url);
    expect(await d.supportedPowerActions()).toEqual(["on", "off", "soft_off"]);
    const e = await caught(d.setPower("nmi"));
    expect(e.code).toBe("unsupported");
    expect(e.message).toMatch(/does not offer power action "nmi" \(Redfish ResetType Nmi; it allows On, ForceOff, GracefulShutdown\)/);
    expect(p.log.some((l) => l.path.includes("ComputerSystem.Reset"))).toBe(false);

    const gone = await proxy(host1, {
      intercept: (r) =>
        r.path.endsWith("ComputerSystem.Reset") ? { status: 404, json: { error: { code: "Base.1.18.ResourceMissingAtURI", message: "not here" } } } : undefined,
    });
    const e404 = await caught(driver(gone.url).setPower("on"));
    expect(e404.code).toBe("unsupported");
    expect(e404.message).toMatch(/does not support ResetType 'On' \(HTTP 404: not here\)/);

    expect((await caught(d.setPower("explode" as never))).code).toBe("invalid");
  });

  it("turns the BMC's refusal of a ResetType into an operator-readable unsupported error", async () => {
    // A BMC that advertises nothing: the driver asks, the BMC refuses with its ExtendedInfo.
    const p = await proxy(host1, {
      rewrite: (path, j) => {
        if (path === "/redfish/v1/Systems/System.Embedded.1") {
          delete j.Actions["#ComputerSystem.Reset"]["ResetType@Redfish.AllowableValues"];
          delete j.Actions["#ComputerSystem.Reset"]["@Redfish.ActionInfo"];
        }
        return j;
      },
      intercept: (r) =>
        r.path.endsWith("ComputerSystem.Reset") && r.body.includes("Nmi")
          ? {
              status: 400,
              json: {
                error: {
                  code: "Base.1.18.ActionParameterValueNotInList",
                  message: "x",
                  "@Message.ExtendedInfo": [
                    {
                      MessageId: "Base.1.18.ActionParameterValueNotInList",
                      Message: "The value 'Nmi' for the parameter ResetType is not in the list of acceptable values.",
                    },
                  ],
                },
              },
            }
          : undefined,
    });
    const d = driver(p.url);
    expect(await d.supportedPowerActions()).toHaveLength(7);
    const e = await caught(d.setPower("nmi"));
    expect(e.code).toBe("unsupported");
    expect(e.message).toBe(`BMC ${p.url} refused ResetType 'Nmi': The value 'Nmi' for the parameter ResetType is not in the list of acceptable values.`);
  });
});

describe("boot override", () => {
  it("sets a one-time and a persistent override with the mode", async () => {
    const d = driver(host1);
    await d.setBootDevice("disk", { persistent: false, uefi: true });
    expect((await admin("GET", host1.id)).bootOverride).toEqual({ enabled: "Once", target: "Hdd", mode: "UEFI" });
    await d.setBootDevice("pxe", { persistent: true, uefi: false });
    expect((await admin("GET", host1.id)).bootOverride).toEqual({ enabled: "Continuous", target: "Pxe", mode: "Legacy" });
    await d.setBootDevice("cdrom", { persistent: false });
    expect((await admin("GET", host1.id)).bootOverride).toEqual({ enabled: "Once", target: "Cd", mode: "Legacy" });
  });

  it("retries once with a fresh ETag when another client changed the system between GET and PATCH", async () => {
    let changes = 0;
    const p = await proxy(host1, {
      before: async (r) => {
        if (r.method === "PATCH" && changes === 0) {
          changes++;
          expect((await other(host1, "PATCH", "/redfish/v1/Systems/System.Embedded.1", { AssetTag: "rack-7" })).status).toBe(200);
        }
      },
    });
    const d = driver(p.url);
    await d.setBootDevice("disk", { persistent: true, uefi: true });
    const patches = p.log.filter((l) => l.method === "PATCH").map((l) => l.status);
    expect(patches).toEqual([412, 200]);
    expect((await admin("GET", host1.id)).bootOverride).toEqual({ enabled: "Continuous", target: "Hdd", mode: "UEFI" });
    expect((await other(host1, "GET", "/redfish/v1/Systems/System.Embedded.1")).json.AssetTag).toBe("rack-7");
  });

  it("gives up after a second 412 with a clear, transient error", async () => {
    let n = 0;
    const p = await proxy(host1, {
      before: async (r) => {
        if (r.method === "PATCH") await other(host1, "PATCH", "/redfish/v1/Systems/System.Embedded.1", { AssetTag: `tag-${++n}` });
      },
    });
    const e = await caught(driver(p.url).setBootDevice("pxe", { persistent: false }));
    expect(e.code).toBe("bmc_error");
    expect(e.transient).toBe(true);
    expect(e.message).toMatch(/412 PreconditionFailed/);
    expect(n).toBe(2);
  });

  it("refuses a target the BMC does not list; passes on the BMC's own refusal when it lists none", async () => {
    const d = driver(host1);
    const e = await caught(d.setBootDevice("bios", { persistent: false }));
    expect(e.code).toBe("unsupported");
    expect(e.message).toMatch(/cannot boot from "bios" \(Redfish target BiosSetup; it offers None, Pxe, Hdd, Cd, UefiHttp\)/);
    expect((await caught(d.setBootDevice("floppy" as never, { persistent: false }))).code).toBe("invalid");

    const p = await proxy(host1, {
      rewrite: (path, j) => {
        if (path === "/redfish/v1/Systems/System.Embedded.1" && j.Boot) delete j.Boot["BootSourceOverrideTarget@Redfish.AllowableValues"];
        return j;
      },
    });
    const e2 = await caught(driver(p.url).setBootDevice("bios", { persistent: false }));
    expect(e2.code).toBe("invalid");
    expect(e2.message).toBe(
      `BMC ${p.url} refused set the boot override to BiosSetup (Once): The value 'BiosSetup' for the property BootSourceOverrideTarget is not in the list of acceptable values.`,
    );
  });
});

describe("inventory", () => {
  it("reads the host and discovers its DPU's BMC through NetworkDeviceFunction Links.OffloadSystem", async () => {
    const inv = await driver(host1).getInventory();
    expect(inv.systemType).toBe("physical");
    expect(inv.manufacturer).toBeTruthy();
    expect(inv.serialNumber).toBeTruthy();
    expect(inv.uuid).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(inv.cpu?.count).toBeGreaterThan(0);
    expect(inv.cpu?.cores).toBeGreaterThan(0);
    expect(inv.memoryGiB).toBeGreaterThan(0);
    expect(inv.nics?.length).toBeGreaterThan(0);
    for (const n of inv.nics ?? []) expect(n.macAddress).toMatch(/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/);
    expect(inv.bmc.firmwareVersion).toBeTruthy();
    expect(inv.bmc.protocolVersion).toMatch(/^1\.\d+\.\d+$/);
    expect(inv.dpus).toEqual([
      {
        systemId: `${dpu1.url}/redfish/v1/Systems/Bluefield`,
        bmcUrl: dpu1.url,
        networkDeviceFunctions: ["/redfish/v1/Chassis/Chassis.1/NetworkAdapters/Slot.1/NetworkDeviceFunctions/Slot.1-1"],
      },
    ]);
    expect(inv.dpuBmcUrl).toBe(dpu1.url);

    // Follow the link to the DPU's own BMC: a DPU system that points back at the host and names its agent.
    await admin("PUT", `${dpu1.id}/agent-url`, { url: "http://127.0.0.1:9999" });
    const dpuInv = await driver(inv.dpus?.[0].bmcUrl as string).getInventory();
    expect(dpuInv.systemType).toBe("dpu");
    expect(dpuInv.manufacturer).toBe("Nvidia");
    expect(dpuInv.dpus).toEqual([]);
    expect(dpuInv.host).toEqual({
      bmcUrl: host1.url,
      networkDeviceFunctions: [`${host1.url}/redfish/v1/Chassis/Chassis.1/NetworkAdapters/Slot.1/NetworkDeviceFunctions/Slot.1-1`],
    });
    expect(dpuInv.agentUrl).toBe("http://127.0.0.1:9999");
  });

  it("uses the Oem DPU BMC hint when no function links to the DPU", async () => {
    const p = await proxy(host2, {
      rewrite: (path, j) => {
        if (path.includes("NetworkDeviceFunctions/")) delete j.Links;
        return j;
      },
    });
    const inv = await driver(p.url).getInventory();
    expect(inv.dpus).toEqual([{ systemId: dpu2.url, bmcUrl: dpu2.url, networkDeviceFunctions: [] }]);
  });
});

describe("health and the SEL", () => {
  it("reports a PSU failure injected through the lab as critical, with the SEL entry as the reason", async () => {
    const d = driver(host2);
    expect(await d.getHealth()).toEqual({ health: "ok" });
    const before = await d.listEvents();
    const t0 = new Date(Date.now() - 1000);
    await admin("POST", `${host2.id}/sel`, { Severity: "Critical", Message: "Power supply PSU1 failure detected.", SensorType: "Power Supply / Converter" });
    const h = await d.getHealth();
    expect(h.health).toBe("critical");
    expect(h.reason).toMatch(/^Power supply PSU1 failure detected/);
    const events = await d.listEvents();
    expect(events.length).toBe(before.length + 1);
    const last = events.at(-1);
    expect(last).toMatchObject({ severity: "critical", message: "Power supply PSU1 failure detected.", sensorType: "Power Supply / Converter" });
    expect(last?.created?.getTime()).toBeGreaterThanOrEqual(t0.getTime());
    // oldest first, and the filters
    for (let i = 1; i < events.length; i++) expect((events[i].created?.getTime() ?? 0) >= (events[i - 1].created?.getTime() ?? 0)).toBe(true);
    expect(await d.listEvents({ limit: 1 })).toEqual([last]);
    expect((await d.listEvents({ since: t0 })).map((e) => e.id)).toContain(last?.id);
    await admin("DELETE", `${host2.id}/faults`);
    expect((await d.getHealth()).health).toBe("ok");
  });

  it("reads a SEL longer than one page (nextLink)", async () => {
    const d = driver(host2);
    const n0 = (await d.listEvents()).length;
    await Promise.all(Array.from({ length: 120 }, (_, i) => admin("POST", `${host2.id}/sel`, { Severity: "OK", Message: `entry ${i}`, SensorType: "OEM" })));
    const all = await d.listEvents();
    expect(all.length).toBe(n0 + 120);
    expect(new Set(all.map((e) => e.id)).size).toBe(all.length);
  });
});

describe("virtual media", () => {
  it("inserts, replaces and ejects an image", async () => {
    const images = await sharedImageServer();
    images.serve("/rescue.iso", Buffer.alloc(2048, 1));
    images.serve("/installer.iso", Buffer.alloc(2048, 2));
    const rescue = `${images.url}/rescue.iso`;
    const d = driver(host1);
    expect(await d.virtualMedia.status()).toEqual({ inserted: false, image: null });
    await d.virtualMedia.insert(rescue);
    expect(await d.virtualMedia.status()).toEqual({ inserted: true, image: rescue });
    expect((await admin("GET", host1.id)).virtualMedia).toMatchObject({ image: rescue, inserted: true, writeProtected: true });
    await d.virtualMedia.insert(rescue); // same image: nothing to do
    await d.virtualMedia.insert(`${images.url}/installer.iso`, { writeProtected: false });
    expect((await admin("GET", host1.id)).virtualMedia).toMatchObject({
      image: `${images.url}/installer.iso`,
      writeProtected: false,
      transferProtocolType: "HTTP",
    });
    await d.virtualMedia.eject();
    expect(await d.virtualMedia.status()).toEqual({ inserted: false, image: null });
    await d.virtualMedia.eject(); // nothing inserted: no-op
    expect((await caught(d.virtualMedia.insert("not a url"))).code).toBe("invalid");
    // The BMC cannot fetch the image: its own words reach the caller, and nothing stays mounted.
    const refused = await caught(d.virtualMedia.insert("http://127.0.0.1:9/rescue.iso"));
    expect(refused.message).toMatch(/could not be established \(ECONNREFUSED\)/);
    expect(await d.virtualMedia.status()).toEqual({ inserted: false, image: null });
  });
});

describe("firmware", () => {
  it("updates the DPU OS with SimpleUpdate, following the task to completion and the new version", async () => {
    const d = driver(dpu1);
    const before = await d.firmware.inventory();
    expect(before.map((f) => f.id)).toEqual(expect.arrayContaining(["BMC_Firmware", "DPU_OS", "DPU_NIC"]));
    const { taskUrl } = await d.firmware.simpleUpdate("http://images.lab/bf-bundle-2.9.1-40_25.04_ubuntu-22.04_prod.bfb", ["DPU_OS"]);
    expect(taskUrl.startsWith(`${dpu1.url}/redfish/v1/`)).toBe(true);
    const seen: number[] = [];
    let st = await d.firmware.taskStatus(taskUrl);
    while (st.state === "running") {
      if (st.percent !== null) seen.push(st.percent);
      await new Promise((r) => setTimeout(r, 50));
      st = await d.firmware.taskStatus(taskUrl);
    }
    expect(st.state).toBe("completed");
    expect(st.percent).toBe(100);
    expect(st.messages.join(" ")).toMatch(/successfully updated/);
    expect(seen.length).toBeGreaterThan(1);
    const after = await d.firmware.inventory();
    expect(after.find((f) => f.id === "DPU_OS")?.version).toBe("2.9.1-40");
    expect(after.find((f) => f.id === "DPU_NIC")?.version).toBe(before.find((f) => f.id === "DPU_NIC")?.version);
  });

  it("reports a failed update with the task's messages, and refuses unknown components", async () => {
    const d = driver(dpu1);
    const { taskUrl } = await d.firmware.simpleUpdate("http://images.lab/corrupt-2.9.2.bfb", ["/redfish/v1/UpdateService/FirmwareInventory/DPU_OS"]);
    let st = await d.firmware.taskStatus(taskUrl);
    while (st.state === "running") {
      await new Promise((r) => setTimeout(r, 100));
      st = await d.firmware.taskStatus(taskUrl);
    }
    expect(st.state).toBe("failed");
    expect(st.messages.join(" ")).toMatch(/Verification of image .* failed/);
    const e = await caught(d.firmware.simpleUpdate("http://images.lab/x.bfb", ["GPU_VBIOS"]));
    expect(e.code).toBe("invalid");
    expect(e.message).toMatch(/no firmware component "GPU_VBIOS" \(it has BMC_Firmware, /);
    expect((await caught(d.firmware.taskStatus("http://198.51.100.1/redfish/v1/TaskService/Tasks/1"))).code).toBe("bad_response");
  });
});

describe("events and console", () => {
  it("streams a power change over SSE and stops when aborted", async () => {
    const d = driver(host1);
    await d.setPower("off");
    const got: BmcLiveEvent[] = [];
    const ac = new AbortController();
    let onAt = 0;
    const running = d.events.subscribe(
      (e) => {
        got.push(e);
        if (e.kind === "power" && e.powerState === "on") onAt = Date.now();
      },
      { signal: ac.signal },
    );
    // Wait until the stream is open (the SEL/power events only reach connected streams).
    await new Promise((r) => setTimeout(r, 200));
    await d.setPower("on");
    const t0 = Date.now();
    while (!onAt && Date.now() - t0 < 3000) await new Promise((r) => setTimeout(r, 20));
    ac.abort();
    await running;
    expect(got.map((e) => e.powerState).filter(Boolean)).toEqual(["powering_on", "on"]);
    expect(got.every((e) => e.source === "stream")).toBe(true);
    await d.setPower("off");
  });

  it("polls power, health and the SEL when the BMC offers no event stream", async () => {
    const p = await proxy(host1, {
      rewrite: (path, j) => {
        if (path === "/redfish/v1/EventService") delete j.ServerSentEventUri;
        return j;
      },
    });
    const d = driver(p.url);
    const got: BmcLiveEvent[] = [];
    const ac = new AbortController();
    const running = d.events.subscribe((e) => got.push(e), { signal: ac.signal, pollIntervalMs: 50 });
    await new Promise((r) => setTimeout(r, 150));
    await driver(host1).setPower("on");
    const t0 = Date.now();
    // the power state and the SEL's entry for it may come from different polls
    const seen = () => got.some((e) => e.kind === "power" && e.powerState === "on") && got.some((e) => e.kind === "log" && /power on/i.test(e.message));
    while (!seen() && Date.now() - t0 < 3000) await new Promise((r) => setTimeout(r, 20));
    ac.abort();
    await running;
    expect(got.find((e) => e.powerState === "on")).toMatchObject({ kind: "power", source: "poll" });
    expect(got.some((e) => e.kind === "log" && /power on/i.test(e.message))).toBe(true);
    await driver(host1).setPower("off");
  });

  it("reports boot progress: OSRunning once a bootable host has booted, never for one without a disk", async () => {
    const d = driver(host2);
    expect(await d.bootProgress()).toEqual({ power: "off", bootState: "None" });
    sim.setBootable(host2.id, true);
    await d.setPower("on");
    const t0 = Date.now();
    let last = await d.bootProgress();
    while (last.bootState !== "OSRunning" && Date.now() - t0 < 3000) {
      await new Promise((r) => setTimeout(r, 25));
      last = await d.bootProgress();
    }
    expect(last).toEqual({ power: "on", bootState: "OSRunning" });
    await d.setPower("off");
    sim.setBootable(host2.id, false);
    const p = await proxy(host2, {
      rewrite: (path, j) => {
        if (path === "/redfish/v1/Systems/System.Embedded.1") delete j.BootProgress;
        return j;
      },
    });
    expect((await driver(p.url).bootProgress()).bootState).toBeNull();
  });

  it("gives the serial console's WebSocket URI", async () => {
    expect(await driver(host1).consoleUri()).toEqual({ url: `${host1.url.replace("http:", "ws:")}/console/System.Embedded.1`, interactive: true });
    const p = await proxy(host1, {
      rewrite: (path, j) => {
        if (path === "/redfish/v1/Systems/System.Embedded.1") delete j.SerialConsole;
        return j;
      },
    });
    expect(await driver(p.url).consoleUri()).toBeNull();
  });
});

describe("faults, timeouts and retries", () => {
  it("works within the budget when the BMC is slow, and times out beyond it", async () => {
    const d = driver(dpu2, { timeoutMs: 2000 });
    await d.getPowerState(); // logged in before the fault
    await admin("PUT", `${dpu2.id}/faults`, { latencyMs: 150 });
    expect(await d.getPowerState()).toBe("off");
    await admin("PUT", `${dpu2.id}/faults`, { timeout: true });
    const t0 = Date.now();
    const e = await caught(driver(dpu2, { timeoutMs: 600 }).getPowerState());
    expect(e.code).toBe("timeout");
    expect(e.message).toMatch(/did not answer .* within 600 ms/);
    expect(Date.now() - t0).toBeLessThan(1500);
    await admin("DELETE", `${dpu2.id}/faults`);
  });

  it("retries 5xx a bounded number of times, then reports bmc_error", async () => {
    const d = driver(dpu2, { retries: 2, timeoutMs: 8000 });
    await d.getPowerState();
    await admin("PUT", `${dpu2.id}/faults`, { errorRate: 1 });
    const before = d.transport.stats.requests;
    const e = await caught(d.getPowerState());
    await admin("DELETE", `${dpu2.id}/faults`);
    expect(e.code).toBe("bmc_error");
    expect(e.transient).toBe(true);
    expect(e.message).toMatch(/HTTP 50[03].*\(after 3 attempts\)/);
    expect(d.transport.stats.requests - before).toBe(3);
    expect(await d.getPowerState()).toBe("off");
  });

  it("repeats a POSTed action only when the BMC said it did not run it (503), never after an ambiguous 500", async () => {
    let status = 500;
    const p = await proxy(dpu2, {
      intercept: (r) =>
        r.path.endsWith("ComputerSystem.Reset")
          ? {
              status,
              json: { error: { code: "Base.1.18.InternalError", message: "The request failed due to an internal service error." } },
              headers: (status === 503 ? { "retry-after": "0" } : {}) as Record<string, string>,
            }
          : undefined,
    });
    const d = driver(p.url, { retries: 2 });
    const e500 = await caught(d.setPower("on"));
    expect(e500.code).toBe("bmc_error");
    expect(p.log.filter((l) => l.path.endsWith("ComputerSystem.Reset")).length).toBe(1);
    status = 503;
    const e503 = await caught(d.setPower("on"));
    expect(e503.message).toMatch(/HTTP 503: The request failed due to an internal service error\. \(after 3 attempts\)/);
    expect(p.log.filter((l) => l.path.endsWith("ComputerSystem.Reset")).length).toBe(4);
  });

  it("reports an unreachable BMC and a closed port as unreachable", async () => {
    await admin("PUT", `${dpu2.id}/faults`, { unreachable: true });
    const e = await caught(driver(dpu2, { retries: 1 }).getPowerState());
    await admin("DELETE", `${dpu2.id}/faults`);
    expect(e.code).toBe("unreachable");
    expect(e.message).toContain(dpu2.url);
    const closed = http.createServer();
    await new Promise<void>((r) => closed.listen(0, "127.0.0.1", r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((r) => closed.close(() => r()));
    const e2 = await caught(driver(`http://127.0.0.1:${port}`, { retries: 1 }).getPowerState());
    expect(e2.code).toBe("unreachable");
    expect(e2.message).toMatch(/refused the connection \(ECONNREFUSED\)/);
  });
});

describe("probeRedfish", () => {
  it("summarises a Redfish BMC", async () => {
    expect(
      await probeRedfish({ driver: "redfish", address: `${host1.url}/redfish/v1`, credentials: { username: "admin", password: "password" } }),
    ).toMatchObject({
      address: host1.url,
      redfishVersion: "1.21.0",
      auth: "session",
      systems: 1,
    });
  });

  it("says 'not a Redfish BMC' for an HTTP server that answers HTML", async () => {
    const web = http.createServer((_req, res) => res.writeHead(200, { "content-type": "text/html" }).end("<html><body>Welcome to nginx!</body></html>"));
    await new Promise<void>((r) => web.listen(0, "127.0.0.1", r));
    cleanup.push(() => new Promise<void>((r) => web.close(() => r())));
    const url = `http://127.0.0.1:${(web.address() as AddressInfo).port}`;
    const e = await caught(probeRedfish({ driver: "redfish", address: url, credentials: { username: "admin", password: "x" } }));
    expect(e.code).toBe("bad_response");
    expect(e.message).toMatch(/answers HTTP but is not a Redfish BMC: .*text\/html.*Welcome to nginx/);
  });

  it("explains an invalid address", async () => {
    expect(() => createBmcDriver({ driver: "redfish", address: "10.0.0.5", credentials: { username: "a", password: "b" } })).toThrow(/is not a URL/);
  });
});

describe("TLS", () => {
  let tlsSim: RedfishSim;
  beforeAll(async () => {
    tlsSim = await startRedfishSim({ hosts: 1, dpuEvery: 0, tls: true });
  });
  afterAll(async () => {
    await tlsSim?.close();
  });

  it("refuses a self-signed certificate when verifying, with a certificate message", async () => {
    const e = await caught(driver(tlsSim.bmcs[0], { verifyTls: true }).getPowerState());
    expect(e.code).toBe("tls");
    expect(e.transient).toBe(false);
    expect(e.message).toMatch(/TLS certificate Anvil does not trust \(self[- ]signed certificate\).*turn off certificate verification/);
  });

  it("works with verification off, or on with the BMC's CA trusted", async () => {
    expect(await driver(tlsSim.bmcs[0], { verifyTls: false }).getPowerState()).toBe("off");
    const d = driver(tlsSim.bmcs[0], { verifyTls: true, ca: tlsSim.caPem });
    expect((await d.getInventory()).systemType).toBe("physical");
    expect(d.transport.authMode()).toBe("session");
  });
});
