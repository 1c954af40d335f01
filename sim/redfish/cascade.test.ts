// BMC cascade (cascade.ts) over real HTTP: a host BMC that carries its DPU's BMC names the DPU by a path through its
// proxy and gives no address of its own for it; the proxy forwards the DPU BMC's whole service (sessions and power
// included) and lets the DPU BMC check its own credentials; it refuses DPUs it does not carry; and a host BMC that
// goes down takes the cascaded DPU with it.
// biome-ignore-all lint/suspicious/noExplicitAny: parsed Redfish JSON bodies are untyped; tests read them as such

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CASCADE_ROOT } from "./cascade";
import { type RedfishSim, startRedfishSim } from "./index";
import { basic, ConsoleClient, powerOf, resetVia, rf, systemOf, waitFor } from "./test-helpers";

const DPU_PASSWORD = "cascade-dpu-Secret";
let sim: RedfishSim;

beforeAll(async () => {
  sim = await startRedfishSim({ hosts: 2, idPrefix: "csc", dpuPassword: DPU_PASSWORD, cascade: (i) => i === 0, powerTransitionMs: 20, bootMs: 20 });
});
afterAll(async () => {
  await sim.close();
});

const admin = (path: string, method: string, body?: unknown) =>
  fetch(`${sim.adminUrl}${path}`, { method, headers: { "content-type": "application/json" }, body: body === undefined ? undefined : JSON.stringify(body) });

describe("a DPU BMC behind its host's BMC", () => {
  it("is named by a path through the host BMC, which gives no address of its own for it", async () => {
    const host = sim.byId("csc-0001")!;
    const dpu = sim.byId("csc-0001-dpu")!;
    expect(dpu).toMatchObject({ via: "cascade", url: `${host.baseUrl}${CASCADE_ROOT}/csc-0001-dpu`, password: DPU_PASSWORD });
    const sys = await systemOf(host);
    expect(sys.Oem.Anvil.DpuBmcUrl).toBeNull();
    const fn = await rf(host, "/redfish/v1/Chassis/Chassis.1/NetworkAdapters/Slot.1/NetworkDeviceFunctions/Slot.1-1");
    expect(fn.json.Links.OffloadSystem["@odata.id"]).toBe(`${CASCADE_ROOT}/csc-0001-dpu/redfish/v1/Systems/Bluefield`);
    // The other host's DPU keeps its own address.
    expect(sim.byId("csc-0002-dpu")!.via).toBeUndefined();
    expect((await systemOf(sim.byId("csc-0002")!)).Oem.Anvil.DpuBmcUrl).toBe(sim.byId("csc-0002-dpu")!.url);
  });

  it("answers through the proxy with the DPU BMC's own service and credentials; the host's are refused", async () => {
    const dpu = sim.byId("csc-0001-dpu")!;
    const root = await rf(dpu, "/redfish/v1/", { auth: "none" });
    expect(root.status).toBe(200);
    const sys = await systemOf(dpu);
    expect(sys).toMatchObject({ SystemType: "DPU", "@odata.id": "/redfish/v1/Systems/Bluefield" });
    const host = sim.byId("csc-0001")!;
    const wrong = await rf(dpu, "/redfish/v1/Systems/Bluefield", { auth: { user: host.username, password: host.password } });
    expect(wrong.status).toBe(401);
    // A session made through the proxy is the DPU BMC's, and drives it.
    const login = await rf(dpu, "/redfish/v1/SessionService/Sessions", { auth: "none", body: { UserName: dpu.username, Password: DPU_PASSWORD } });
    expect(login.status).toBe(201);
    const token = login.headers.get("x-auth-token")!;
    expect((await rf(dpu, "/redfish/v1/Systems/Bluefield", { auth: { token } })).json.PowerState).toMatch(/^(On|Off)$/);
    expect((await rf(dpu, login.headers.get("location")!, { method: "DELETE", auth: { token } })).status).toBeLessThan(300);
    expect((await resetVia(dpu, "On")).status).toBeLessThan(300);
    await waitFor("the DPU on", async () => (await powerOf(dpu)) === "On");
  });

  it("carries the DPU's serial console WebSocket too, with the DPU BMC's credentials", async () => {
    const dpu = sim.byId("csc-0001-dpu")!;
    const uri: string = (await systemOf(dpu)).SerialConsole.WebSocket.ConsoleURI;
    const url = `${dpu.baseUrl.replace(/^http/, "ws")}${uri}`;
    const c = await ConsoleClient.open(url, { authorization: basic(dpu.username, DPU_PASSWORD) });
    c.close();
    const host = sim.byId("csc-0001")!;
    await expect(ConsoleClient.open(url, { authorization: basic(host.username, host.password) })).rejects.toThrow(/HTTP 401/);
  });

  it("refuses DPUs it does not carry: another host's, one with its own address, an unknown one", async () => {
    const host = sim.byId("csc-0001")!;
    const other = sim.byId("csc-0002")!;
    for (const [bmc, id] of [
      [other, "csc-0001-dpu"],
      [other, "csc-0002-dpu"],
      [host, "csc-0002-dpu"],
      [host, "nope"],
    ] as const) {
      const r = await rf(bmc, `${CASCADE_ROOT}/${id}/redfish/v1/`, { auth: "none" });
      expect(r.status, `${bmc.id} → ${id}`).toBe(404);
      expect(r.json.error["@Message.ExtendedInfo"][0].MessageId).toMatch(/ResourceMissingAtURI/);
    }
  });

  it("goes down with the host BMC and comes back with it; a DPU BMC down behind a live host is a 503", async () => {
    const dpu = sim.byId("csc-0001-dpu")!;
    expect((await admin("/admin/bmcs/csc-0001/faults", "PUT", { unreachable: true })).status).toBe(200);
    await expect(rf(dpu, "/redfish/v1/", { auth: "none" })).rejects.toThrow();
    expect((await admin("/admin/bmcs/csc-0001/faults", "DELETE")).status).toBeLessThan(300);
    expect((await rf(dpu, "/redfish/v1/", { auth: "none" })).status).toBe(200);

    expect((await admin("/admin/bmcs/csc-0001-dpu/faults", "PUT", { unreachable: true })).status).toBe(200);
    expect((await rf(dpu, "/redfish/v1/", { auth: "none" })).status).toBe(503);
    expect((await rf(sim.byId("csc-0001")!, "/redfish/v1/", { auth: "none" })).status).toBe(200);
    expect((await admin("/admin/bmcs/csc-0001-dpu/faults", "DELETE")).status).toBeLessThan(300);
    expect((await rf(dpu, "/redfish/v1/", { auth: "none" })).status).toBe(200);
  });
});
