// The real lab's provider network (sim/real/provider.ts) with two emulated DPUs joined to it (startDpu's `uplink`; their
// agents never need QMP here, so no QEMU or Ceph): the gateway address and MAC live in the provider's namespace
// only; each DPU's uplink is a br-int port carrying only the provider VLAN and the agent's --uplink, so an overlay
// with router.external is taken (not 409 no_uplink); a machine on the provider network resolving a floating IP hears
// the MAC of the DPU that holds it, and after the floating IP moves to the other DPU, the other's; DPU stop takes its
// uplink's veth pair away, and stop() leaves no namespace mount or file and no switch process.
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { OVS_TOOLS, requireTools } from "../../test/ovs-lab";
import { type EmulatedDpu, startDpu, vsctlOf } from "./dpu";
import { mountsUnder, pidsMentioning } from "./lab";
import { type ProviderNetwork, startProviderNetwork } from "./provider";

const TOKEN = "provider-test-token";
const VNI = 5301;
const FIP = "203.0.113.40";
const EXT = ["02:a4:e1:00:71:01", "02:a4:e1:00:71:02"];
const NIC = { ip: "10.30.1.10", mac: "02:00:00:00:30:0a" };

let dir: string;
let provider: ProviderNetwork | undefined;
const dpus: EmulatedDpu[] = [];

const sh = (args: string[]) =>
  new Promise<string>((res, rej) =>
    execFile(args[0]!, args.slice(1), { timeout: 60_000, env: { ...process.env, PATH: `${process.env.PATH}:/usr/sbin:/sbin` } }, (err, out, stderr) =>
      err ? rej(new Error(`${args.join(" ")}: ${stderr || err.message}`)) : res(out),
    ),
  );
const call = async (dpu: EmulatedDpu, method: string, path: string, body?: unknown) => {
  const res = await fetch(dpu.url + path, {
    method,
    headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, text };
};
/** The overlay of DPU i, holding the floating IP when `holds`. */
const overlay = (i: number, holds: boolean) => ({
  remoteIps: [],
  neighbors: [NIC],
  router: {
    mac: "02:a4:e1:00:30:01",
    subnets: [{ cidr: "10.30.1.0/24", gateway: "10.30.1.1" }],
    external: {
      vlanId: provider!.vlanId,
      mac: EXT[i],
      cidr: provider!.cidr,
      gateway: provider!.gateway,
      gatewayMac: provider!.gatewayMac,
      snatIp: `203.0.113.${20 + i}`,
      floatingIps: holds ? [{ ip: FIP, fixedIp: NIC.ip }] : [],
    },
  },
});
const providerPorts = async () => (await vsctlOf(join(dir, "provider", "ovs"))("list-ports", "br-prov")).split("\n").filter(Boolean);
/** The MAC the provider namespace resolves an address to (a fresh ARP each time), or "" when none answers. */
async function resolved(ip: string): Promise<string> {
  await provider!.exec(["ip", "neigh", "flush", "to", ip]);
  await provider!.exec(["ping", "-c", "1", "-W", "1", ip]).catch(() => undefined); // nothing answers the ping itself
  return /lladdr (\S+)/.exec(await provider!.exec(["ip", "neigh", "show", "to", ip]))?.[1] ?? "";
}

beforeAll(async () => {
  requireTools([...OVS_TOOLS, ["nsenter", "util-linux"], ["ping", "iputils-ping"]]);
  dir = await mkdtemp(join(tmpdir(), "anvil-provider-"));
  provider = await startProviderNetwork({ dir: join(dir, "provider") });
  for (const i of [0, 1]) {
    dpus.push(
      await startDpu({
        dir: join(dir, `dpu${i + 1}`),
        qmpSocket: join(dir, "unused.sock"),
        rootPorts: ["rp1"],
        token: TOKEN,
        uplink: { netns: provider.netns, peer: `pu${i + 1}`, vlanId: provider.vlanId, attach: provider.attach },
      }),
    );
  }
}, 120_000);

afterAll(async () => {
  for (const d of dpus) await d.stop();
  await provider?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
}, 60_000);

describe("the real lab's provider network", () => {
  it("holds the gateway address and MAC on the provider VLAN, inside its own namespace only", async () => {
    expect(await provider!.exec(["ip", "-o", "addr", "show", "dev", "gw"])).toContain(`${provider!.gateway}/24`);
    expect(await provider!.exec(["ip", "-o", "link", "show", "gw"])).toContain(provider!.gatewayMac);
    expect(await sh(["ip", "-o", "addr", "show"])).not.toContain(provider!.gateway);
  });

  it("joins each DPU by an uplink: a port of the provider's switch there, a trunk of the provider VLAN on br-int here", async () => {
    expect((await providerPorts()).sort()).toEqual(["gw", "pu1", "pu2"]);
    for (const d of dpus) {
      expect((await d.vsctl("list-ports", "br-int")).split("\n")).toContain("uplink");
      expect((await d.vsctl("get", "Port", "uplink", "trunks")).trim()).toBe(`[${provider!.vlanId}]`);
    }
  });

  it("the agents take router.external; the provider hears the floating IP from the DPU holding it, then from the other", async () => {
    for (const i of [0, 1]) {
      const r = await call(dpus[i]!, "PUT", `/v1/overlay/vxlan/${VNI}`, overlay(i, i === 0));
      expect(r.status, r.text).toBe(201);
    }
    expect(await resolved(FIP)).toBe(EXT[0]);
    expect(await resolved("203.0.113.21")).toBe(EXT[1]); // the other DPU's SNAT address
    // The move, in the order Anvil's overlay pass may push it: the new holder first, then the old one lets go.
    expect((await call(dpus[1]!, "PUT", `/v1/overlay/vxlan/${VNI}`, overlay(1, true))).status).toBe(200);
    expect((await call(dpus[0]!, "PUT", `/v1/overlay/vxlan/${VNI}`, overlay(0, false))).status).toBe(200);
    expect(await resolved(FIP)).toBe(EXT[1]);
    for (const d of dpus) expect((await call(d, "DELETE", `/v1/overlay/vxlan/${VNI}`)).status).toBe(204);
    expect(await resolved(FIP)).toBe("");
  });

  it("a DPU's stop takes its uplink away; stop() leaves no namespace behind", async () => {
    await dpus.pop()!.stop();
    expect(await provider!.exec(["ip", "-o", "link", "show"])).not.toContain("pu2");
    for (const d of dpus.splice(0)) await d.stop();
    await provider!.stop();
    expect(existsSync(provider!.netns)).toBe(false);
    expect(mountsUnder(dir)).toEqual([]);
    expect(pidsMentioning(dir)).toEqual([]);
  });
});
