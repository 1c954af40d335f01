// The Redfish driver against BMCs as they are in the field (issue #13), played by the lab simulator's dialects over
// real HTTP(S): the system an address names, several systems behind a bare address, a boot override the BMC keeps
// for every boot or clears only one way, DPUs on the host's own BMC, consoles advertised on the Manager or not at
// all, hardware logs not named SEL, an http:// address to an HTTPS port, and the TLS message said once.
// The conformance table (conformance.test.ts) runs the common behaviours on every dialect; this file checks the
// words and the edges.
// biome-ignore-all lint/suspicious/noExplicitAny: admin API and Redfish JSON are read untyped here
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RedfishSim, type SimBmc, startRedfishSim } from "@/sim/redfish";
import { probeMessage } from "@/server/workflows/enroll";
import { bootOverrideOutcome } from "./boot-override";
import { RedfishDriver } from "./redfish";
import { startRedfishProxy } from "./redfish-test-proxy";
import { BmcError, type BmcLiveEvent } from "./types";
import { rejection } from "@/test/rejection";
import { bmcAdmin } from "@/test/bmc-admin";

const sims: RedfishSim[] = [];
const cleanup: Array<() => Promise<unknown>> = [];
afterAll(async () => {
  for (const c of cleanup.reverse()) await c().catch(() => {});
  for (const s of sims) await s.close();
});

async function lab(dialect: Parameters<typeof startRedfishSim>[0]["dialect"], o: { hosts?: number; dpuEvery?: number } = {}): Promise<RedfishSim> {
  const sim = await startRedfishSim({ hosts: o.hosts ?? 1, dpuEvery: o.dpuEvery ?? 0, dialect, powerTransitionMs: 40, bootMs: 30 });
  sims.push(sim);
  return sim;
}

function driver(address: string, o: { verifyTls?: boolean } = {}): RedfishDriver {
  const d = new RedfishDriver(
    { driver: "redfish", address, credentials: { username: "admin", password: "password" }, timeoutMs: 5000, retries: 0, ...o },
    { backoffMs: 20 },
  );
  cleanup.push(() => d.close());
  return d;
}

const caught = (p: Promise<unknown>) => rejection(p, BmcError);

const until = async (what: string, fn: () => Promise<boolean>) => {
  for (let i = 0; i < 200; i++) {
    if (await fn()) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`timed out waiting for ${what}`);
};

describe("the system an address names (finding 1)", () => {
  let sim: RedfishSim;
  let n1: SimBmc;
  let n2: SimBmc;
  beforeAll(async () => {
    sim = await lab("multi-node", { hosts: 2 });
    [n1, n2] = sim.bmcs;
  });

  it("refuses a bare address of a BMC with several servers, listing the system URLs to enroll", async () => {
    const e = await caught(driver(n1.baseUrl).getPowerState());
    expect(e.code).toBe("invalid");
    expect(e.transient).toBe(false);
    expect(e.message).toBe(
      `BMC ${n1.baseUrl} manages 2 computer systems; enroll each by the URL of its system: ${n1.baseUrl}/redfish/v1/Systems/1, ${n1.baseUrl}/redfish/v1/Systems/2`,
    );
    expect(probeMessage(e, n1.baseUrl)).toBe(e.message);
  });

  it("powers, boots and reads only the system in its address; the other node is untouched", async () => {
    const d1 = driver(n1.url);
    const d2 = driver(n2.url);
    await d1.setPower("on");
    await d2.setPower("on");
    await until("both on", async () => (await d1.getPowerState()) === "on" && (await d2.getPowerState()) === "on");
    await d2.setPower("off");
    await d2.setBootDevice("pxe", { persistent: true });
    expect((await bmcAdmin(sim, "GET", n2.id)).powerState).toBe("Off");
    expect((await bmcAdmin(sim, "GET", n1.id)).powerState).toBe("On");
    expect((await bmcAdmin(sim, "GET", n1.id)).bootOverride.target).toBe("None");
    expect((await bmcAdmin(sim, "GET", n2.id)).bootOverride.target).toBe("Pxe");
    expect((await d2.getInventory()).serialNumber).not.toBe((await d1.getInventory()).serialNumber);
    await d1.setPower("off");
  });

  it("streams only its own system's events from the BMC's shared event service", async () => {
    const d2 = driver(n2.url);
    const got: BmcLiveEvent[] = [];
    const ac = new AbortController();
    const running = d2.events.subscribe((e) => got.push(e), { signal: ac.signal });
    await new Promise((r) => setTimeout(r, 200));
    await driver(n1.url).setPower("on"); // the other node
    await driver(n2.url).setPower("on");
    await until("node 2 on event", async () => got.some((e) => e.powerState === "on"));
    ac.abort();
    await running;
    expect(got.filter((e) => e.kind === "power").every((e) => e.origin === "/redfish/v1/Systems/2")).toBe(true);
  });

  it("names the systems there are when the address names one that is not", async () => {
    const e = await caught(driver(`${n1.baseUrl}/redfish/v1/Systems/9`).getPowerState());
    expect(e.code).toBe("invalid");
    expect(e.message).toBe(`BMC ${n1.baseUrl} has no computer system at /redfish/v1/Systems/9 (it has /redfish/v1/Systems/1, /redfish/v1/Systems/2)`);
  });
});

describe("boot override read back and cleared the way the BMC accepts (finding 4)", () => {
  it("reports a one-time override the BMC keeps for every boot, in words for the operator", async () => {
    const sim = await lab("sticky-boot");
    const d = driver(sim.bmcs[0].url);
    const r = await d.setBootDevice("disk", { persistent: false });
    expect(r.applied).toEqual({ device: "disk", persistent: true });
    const o = bootOverrideOutcome("disk", { persistent: false }, r);
    expect(o.honoured).toBe(false);
    expect(o.text).toMatch(/^disk — the BMC keeps this override for every boot/);
  });

  it("clears with Target None after the BMC refuses Disabled, and checks it by reading back", async () => {
    const sim = await lab("sticky-boot");
    const b = sim.bmcs[0];
    const p = await startRedfishProxy(b.url);
    cleanup.push(() => p.close());
    const d = driver(p.url);
    await d.setBootDevice("pxe", { persistent: false });
    await d.clearBootOverride();
    const patches = p.log.filter((l) => l.method === "PATCH").map((l) => l.status);
    expect(patches).toEqual([200, 400, 200]);
    expect((await bmcAdmin(sim, "GET", b.id)).bootOverride).toMatchObject({ target: "None" });
  });

  it("sets Continuous where the BMC lists no Once, and says so", async () => {
    const sim = await lab("lab");
    const b = sim.bmcs[0];
    const p = await startRedfishProxy(b.url, {
      rewrite: (path, j) => {
        if (path === "/redfish/v1/Systems/System.Embedded.1" && j.Boot)
          j.Boot["BootSourceOverrideEnabled@Redfish.AllowableValues"] = ["Disabled", "Continuous"];
        return j;
      },
    });
    cleanup.push(() => p.close());
    const r = await driver(p.url).setBootDevice("cdrom", { persistent: false });
    expect(r.applied).toEqual({ device: "cdrom", persistent: true });
    expect((await bmcAdmin(sim, "GET", b.id)).bootOverride).toMatchObject({ enabled: "Continuous", target: "Cd" });
  });

  it("fails with every form it tried when the BMC answers 200 and keeps the override", async () => {
    const sim = await lab("lab");
    const b = sim.bmcs[0];
    await driver(b.url).setBootDevice("pxe", { persistent: true });
    const p = await startRedfishProxy(b.url, { intercept: (r) => (r.method === "PATCH" ? { status: 204 } : undefined) });
    cleanup.push(() => p.close());
    const e = await caught(driver(p.url).clearBootOverride());
    expect(e.code).toBe("bmc_error");
    expect(e.message).toBe(
      `BMC ${p.url} would not clear its boot override — BootSourceOverrideEnabled Disabled: accepted, but it still holds Pxe (Continuous); BootSourceOverrideTarget None: accepted, but it still holds Pxe (Continuous); BootSourceOverrideEnabled Disabled + BootSourceOverrideTarget None: accepted, but it still holds Pxe (Continuous)`,
    );
  });
});

describe("DPUs on the host's BMC (finding 5)", () => {
  it("finds the DPU through Chassis Contains and SystemType DPU, at its system's URL on the same BMC", async () => {
    const sim = await lab("dmtf-smartnic", { dpuEvery: 1 });
    const [host, dpu] = sim.bmcs;
    const inv = await driver(host.url).getInventory();
    expect(inv.systemType).toBe("physical");
    expect(inv.dpus).toEqual([
      {
        systemId: "/redfish/v1/Systems/Card1-SoC",
        bmcUrl: `${host.baseUrl}/redfish/v1/Systems/Card1-SoC`,
        networkDeviceFunctions: ["/redfish/v1/Chassis/Card1/NetworkAdapters/Slot1/NetworkDeviceFunctions/SC2KP1F0"],
      },
    ]);
    const dpuInv = await driver(dpu.url).getInventory();
    expect(dpuInv.systemType).toBe("dpu");
    expect(dpuInv.host).toEqual({ bmcUrl: null, networkDeviceFunctions: ["/redfish/v1/Chassis/Card1/NetworkAdapters/Slot1/NetworkDeviceFunctions/SC2KP1F0"] });
  });
});

describe("serial consoles wherever they are advertised (finding 6)", () => {
  it("finds SSH and IPMI on the Manager with its NetworkProtocol ports, and says why there is none", async () => {
    const sim = await lab("dmtf-rackmount");
    const b = sim.bmcs[0];
    await bmcAdmin(sim, "PUT", `${b.id}/dialect`, { sshPort: 2200, ipmiPort: 6230 });
    expect((await driver(b.url).consoleOptions()).options).toEqual([
      { kind: "ssh", host: "127.0.0.1", port: 2200, source: "the manager's SerialConsole (SSH)" },
      { kind: "ipmi", host: "127.0.0.1", port: 6230, source: "the manager's SerialConsole (IPMI)" },
    ]);
    await bmcAdmin(sim, "PUT", `${b.id}/dialect`, { console: "none" });
    expect(await driver(b.url).consoleOptions()).toEqual({
      options: [],
      none: "This BMC offers no serial console (its system advertises no SerialConsole; its manager advertises no SerialConsole or CommandShell)",
    });
  });
});

describe("hardware logs not named SEL (finding 8)", () => {
  it("reads the system's Log1 and the Manager's Log once each, the chassis' link to Log1 notwithstanding", async () => {
    const sim = await lab("dmtf-rackmount");
    const b = sim.bmcs[0];
    const d = driver(b.url);
    await bmcAdmin(sim, "POST", `${b.id}/sel`, { Severity: "Critical", Message: "Temperature threshold exceeded", SensorType: "Temperature" });
    await bmcAdmin(sim, "POST", `${b.id}/sel`, { Severity: "Warning", Message: "System May be Melting", SensorType: "Temperature", Log: "manager" });
    const events = await d.listEvents();
    expect(events.filter((e) => e.message === "Temperature threshold exceeded")).toHaveLength(1);
    const melting = events.find((e) => e.message === "System May be Melting");
    expect(melting).toMatchObject({ severity: "warning" });
    expect(melting?.id).toMatch(/^Managers\/BMC\/Log:\d+$/);
    expect(events.find((e) => e.message === "Temperature threshold exceeded")?.id).toMatch(/^\d+$/);
    const h = await d.getHealth();
    expect(h).toMatchObject({ health: "critical" });
    expect(h.reason).toMatch(/Temperature threshold exceeded/);
  });
});

describe("addresses and TLS (finding 9)", () => {
  it("says 'use https://' for an http:// address of a TLS-only port", async () => {
    const sim = await lab("tls-only");
    const https = sim.bmcs[0].url;
    const http = https.replace(/^https:/, "http:");
    const e = await caught(driver(http).getPowerState());
    expect(e.code).toBe("invalid");
    expect(e.message).toBe(`This BMC speaks HTTPS on that port; use ${https} (the address ${http} sends plain HTTP to a TLS-only port)`);
    expect(probeMessage(e, http)).toBe(e.message);
  });

  it("says what is wrong with a certificate once", async () => {
    const sim = await lab("tls-only");
    const url = sim.bmcs[0].url;
    const e = await caught(driver(url, { verifyTls: true }).getPowerState());
    expect(e.code).toBe("tls");
    const m = probeMessage(e, url);
    expect(m).toBe(
      `The BMC at ${url} presented a certificate Anvil does not trust (self-signed certificate). Install a trusted certificate on the BMC, or turn off "verify certificate" for this node.`,
    );
  });
});
