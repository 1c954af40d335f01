// Starting the simulator at (small) fleet size and in every address mode: 200 BMCs on their own ports,
// BMCs on their own 127.x.y.z addresses, and https/wss with the generated self-signed certificate.

import { describe, expect, it } from "vitest";
import { type RedfishSim, startRedfishSim } from "./index";
import { basic, ConsoleClient, resetVia, rf, systemOf } from "./test-helpers";

async function withSim<T>(sim: RedfishSim, fn: (sim: RedfishSim) => Promise<T>): Promise<T> {
  try {
    return await fn(sim);
  } finally {
    await sim.close();
  }
}

describe("startRedfishSim", () => {
  it("serves 200 BMCs (100 hosts + 100 DPUs) each on its own port", async () => {
    await withSim(await startRedfishSim({ hosts: 100 }), async (sim) => {
      expect(sim.bmcs.length).toBe(200);
      expect(sim.bmcs.filter((b) => b.kind === "dpu").length).toBe(100);
      const ports = new Set(sim.bmcs.map((b) => new URL(b.url).port));
      expect(ports.size).toBe(200);
      expect(sim.byId("node-0100")?.dpuId).toBe("node-0100-dpu");
      expect(sim.byId("node-0100-dpu")?.hostId).toBe("node-0100");
      // Every BMC answers as itself: its own system, and UUIDs differ.
      const uuids = new Set<string>();
      for (let i = 0; i < sim.bmcs.length; i += 8) {
        const chunk = sim.bmcs.slice(i, i + 8);
        const roots = await Promise.all(chunk.map((b) => rf(b, "/redfish/v1/", { auth: "none" })));
        const systems = await Promise.all(chunk.map((b) => systemOf(b)));
        chunk.forEach((b, j) => {
          expect(roots[j].status).toBe(200);
          uuids.add(roots[j].json.UUID);
          expect(systems[j].Id).toBe(b.systemId);
          expect(systems[j].HostName).toBe(b.id);
        });
      }
      expect(uuids.size).toBe(200);
    });
  });

  it("places every BMC on its own loopback address and one shared port", async () => {
    await withSim(await startRedfishSim({ hosts: 3, address: "loopback", loopbackNet: 77 }), async (sim) => {
      const urls = sim.bmcs.map((b) => new URL(b.url));
      expect(new Set(urls.map((u) => u.port)).size).toBe(1);
      expect(new Set(urls.map((u) => u.hostname)).size).toBe(6);
      for (const u of urls) expect(u.hostname).toMatch(/^127\.77\.0\.\d+$/);
      const dpu = sim.byId("node-0002-dpu")!;
      const s = await systemOf(dpu);
      expect(s.SystemType).toBe("DPU");
      expect(s.SerialConsole.WebSocket.ConsoleURI.startsWith(`ws://${new URL(dpu.url).host}/`)).toBe(true);
      const host = await systemOf(sim.byId("node-0002")!);
      expect(host.Oem.Anvil.DpuBmcUrl).toBe(dpu.url);
    });
  });

  it("serves https and wss with a self-signed certificate that only a trusting client accepts", async () => {
    await withSim(await startRedfishSim({ hosts: 1, tls: true, allBootable: true, powerTransitionMs: 20, bootMs: 60 }), async (sim) => {
      const h = sim.bmcs[0];
      expect(h.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
      expect(sim.caPem).toMatch(/BEGIN CERTIFICATE/);
      // Verifying client without the certificate: refused.
      await expect(fetch(`${h.url}/redfish/v1/`)).rejects.toThrow();
      const r = await rf(h, "/redfish/v1/Systems", { ca: sim.caPem });
      expect(r.status).toBe(200);
      const sys = await rf(h, r.json.Members[0]["@odata.id"], { ca: sim.caPem });
      const uri: string = sys.json.SerialConsole.WebSocket.ConsoleURI;
      expect(uri).toMatch(/^wss:\/\//);
      const c = await ConsoleClient.open(uri, { authorization: basic(h.username, h.password) }, sim.caPem);
      try {
        await rf(h, sys.json.Actions["#ComputerSystem.Reset"].target, { body: { ResetType: "On" }, ca: sim.caPem });
        await c.waitText(`${h.id} login: `);
      } finally {
        c.close();
      }
    });
  });

  it("starts On with the OS running when asked, and validates options", async () => {
    await withSim(await startRedfishSim({ hosts: 1, dpuEvery: 0, initialPower: "On", allBootable: true }), async (sim) => {
      expect(sim.bmcs.length).toBe(1);
      const s = await systemOf(sim.bmcs[0]);
      expect(s.PowerState).toBe("On");
      expect(s.BootProgress.LastState).toBe("OSRunning");
      expect((await resetVia(sim.bmcs[0], "ForceOff")).status).toBe(204);
    });
    await expect(startRedfishSim({ hosts: -1 })).rejects.toThrow(/hosts/);
    await expect(startRedfishSim({ hosts: 1, idPrefix: "bad prefix" })).rejects.toThrow(/idPrefix/);
  });
});
