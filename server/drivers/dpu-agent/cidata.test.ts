// Tests of the cidata renderer: its output passes the agent's own schema (the same parse PUT /v1/cidata does), and
// its network-config gives the guest its static address, default route and
// DNS under EVERY renderer of the guest's cloud-init — checked by running the real `cloud-init devel net-convert`
// (Debian 12's 22.4) to eni, sysconfig, networkd, netplan and NetworkManager, for IPv4, IPv6 and dual stack (a NIC's
// IPv6 address/64 beside its IPv4 one, the IPv6 default route via the subnet's IPv6 gateway, no router advertisements).
import { describe, expect, it } from "vitest";
import { CidataSpecSchema } from "@/agent/schemas";
import { toYaml } from "@/agent/yaml";
import { expectRendered, netConvert, RENDERERS } from "@/test/cloud-init";
import { dpuHostNqn, renderCidata } from "./cidata";

const base = {
  instanceId: "i-0a1b2c",
  hostname: "web-1",
  userData: "#cloud-config\npackages: [nginx]\n",
  sshPublicKeys: ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIG user@host"],
  mac: "02:AB:00:00:00:01",
  address: "10.0.0.5",
  subnetCidr: "10.0.0.0/24",
  gateway: "10.0.0.1",
  dns: ["10.0.0.2"],
};
const v6 = { ...base, address: "fd00::5", subnetCidr: "fd00::/64", gateway: "fd00::1", dns: ["fd00::2"] };
const dual = { ...base, ipv6: { address: "fd00:0:0:1::5", subnetCidr: "fd00:0:0:1::/64", gateway: "fd00:0:0:1::1" } };

/** The network-config as this renderer says it, in the agent's YAML — without the agent's own rewrite of default
 *  routes (agent/network-config.ts, tested there), so these cases show the renderer alone is right. */
function seedNetworkConfig(input: typeof base & Partial<Pick<Parameters<typeof renderCidata>[0], "extraNics" | "ipv6">>): string {
  const spec = CidataSpecSchema.parse(renderCidata(input));
  return toYaml(spec.networkConfig as Record<string, unknown>);
}

describe("renderCidata", () => {
  it("renders a seed the agent accepts, with the static address on the port's MAC", () => {
    const spec = CidataSpecSchema.parse(renderCidata(base));
    const eth = spec.networkConfig?.network.ethernets?.eth0;
    expect(eth?.match?.macaddress).toBe("02:ab:00:00:00:01");
    expect(eth?.addresses).toEqual(["10.0.0.5/24"]);
    // Not `to: default`: cloud-init 22.4's non-netplan renderers reject it (see cidata.ts).
    expect(eth?.gateway4).toBe("10.0.0.1");
    expect(eth?.routes).toBeUndefined();
    expect(eth?.nameservers?.addresses).toEqual(["10.0.0.2"]);
    expect(spec.metaData["instance-id"]).toBe("i-0a1b2c");
    expect(spec.metaData["public-keys"]).toEqual(base.sshPublicKeys);
    expect(spec.userData).toBe(base.userData);
  });

  it("gives an IPv6 address its default gateway as gateway6", () => {
    const eth = CidataSpecSchema.parse(renderCidata(v6)).networkConfig?.network.ethernets?.eth0;
    expect(eth?.addresses).toEqual(["fd00::5/64"]);
    expect(eth?.gateway6).toBe("fd00::1");
    expect(eth?.routes).toBeUndefined();
    expect(eth?.["accept-ra"]).toBe(false);
  });

  it("omits the route and DNS when the subnet has none", () => {
    const spec = CidataSpecSchema.parse(renderCidata({ ...base, gateway: null, dns: [], sshPublicKeys: [], address: "fd00::5", subnetCidr: "fd00::/64" }));
    const eth = spec.networkConfig?.network.ethernets?.eth0;
    expect(eth?.routes).toBeUndefined();
    expect(eth?.gateway6).toBeUndefined();
    expect(eth?.nameservers).toBeUndefined();
    expect(eth?.addresses).toEqual(["fd00::5/64"]);
    expect(spec.metaData["public-keys"]).toBeUndefined();
  });

  it("lists every NIC by MAC: eth0 with the default route and DNS, the others with their address only", () => {
    const spec = CidataSpecSchema.parse(
      renderCidata({ ...base, extraNics: [{ index: 2, mac: "02:AB:00:00:00:03", address: "10.9.0.7", subnetCidr: "10.9.0.0/25" }] }),
    );
    const eths = spec.networkConfig?.network.ethernets ?? {};
    expect(Object.keys(eths).sort()).toEqual(["eth0", "eth2"]);
    expect(eths.eth2).toEqual({ match: { macaddress: "02:ab:00:00:00:03" }, addresses: ["10.9.0.7/25"], "set-name": "eth2" });
    expect(eths.eth0?.gateway4).toBe("10.0.0.1");
  });

  it("gives a dual-stack NIC its IPv6 address/64 beside the IPv4 one and the IPv6 default route via the IPv6 gateway", () => {
    const eth = CidataSpecSchema.parse(renderCidata(dual)).networkConfig?.network.ethernets?.eth0;
    expect(eth?.addresses).toEqual(["10.0.0.5/24", "fd00:0:0:1::5/64"]);
    expect(eth?.gateway4).toBe("10.0.0.1");
    expect(eth?.routes).toBeUndefined();
    // `::/0 via` said the way every renderer of cloud-init 22.4 reads it (see cidata.ts).
    expect(eth?.gateway6).toBe("fd00:0:0:1::1");
    expect(eth?.["accept-ra"]).toBe(false);
  });

  it("other dual-stack NICs list both addresses; the IPv6 default route goes via the first dual-stack NIC only", () => {
    const extra = (index: number, last: number) => ({
      index,
      mac: `02:ab:00:00:00:0${index}`,
      address: `10.9.${index}.7`,
      subnetCidr: `10.9.${index}.0/24`,
      ipv6: { address: `fd00:0:0:${index}::${last}`, subnetCidr: `fd00:0:0:${index}::/64`, gateway: `fd00:0:0:${index}::1` },
    });
    // The primary is IPv4 only: eth1, the first dual-stack NIC, carries the IPv6 default route; eth2 its address only.
    const eths = CidataSpecSchema.parse(renderCidata({ ...base, extraNics: [extra(1, 7), extra(2, 8)] })).networkConfig?.network.ethernets ?? {};
    expect(eths.eth0?.addresses).toEqual(["10.0.0.5/24"]);
    expect(eths.eth0?.gateway6).toBeUndefined();
    expect(eths.eth0?.["accept-ra"]).toBeUndefined();
    expect(eths.eth1).toMatchObject({ addresses: ["10.9.1.7/24", "fd00:0:0:1::7/64"], gateway6: "fd00:0:0:1::1", "accept-ra": false });
    expect(eths.eth1?.routes).toBeUndefined();
    expect(eths.eth2).toEqual({
      match: { macaddress: "02:ab:00:00:00:02" },
      addresses: ["10.9.2.7/24", "fd00:0:0:2::8/64"],
      "accept-ra": false,
      "set-name": "eth2",
    });
    // A dual-stack primary carries it, and no other NIC does.
    const withPrimary = CidataSpecSchema.parse(renderCidata({ ...dual, extraNics: [extra(1, 7)] })).networkConfig?.network.ethernets ?? {};
    expect(withPrimary.eth0?.gateway6).toBe("fd00:0:0:1::1");
    expect(withPrimary.eth1?.gateway6).toBeUndefined();
  });

  it("names a DPU's initiator with a valid NQN the agent accepts", () => {
    const nqn = dpuHostNqn("5f0c6a1e-0000-4000-8000-000000000001");
    expect(nqn).toMatch(/^nqn\.\d{4}-\d{2}\.[A-Za-z0-9.-]+:.+$/);
  });
});

describe("the seed's network-config under each cloud-init renderer (real cloud-init devel net-convert)", () => {
  it.each(RENDERERS)("IPv4 with %s: static address, default route via the gateway, DNS", async (renderer) => {
    expectRendered(renderer, await netConvert(seedNetworkConfig(base), renderer), { address: "10.0.0.5", prefix: 24, gateway: "10.0.0.1", dns: ["10.0.0.2"] });
  });

  it.each(RENDERERS)("two NICs with %s: each gets its address on its MAC, the default route stays on eth0", async (renderer) => {
    const extra = { index: 1, mac: "02:ab:00:00:00:02", address: "10.9.0.7", subnetCidr: "10.9.0.0/25" };
    const files = await netConvert(seedNetworkConfig({ ...base, extraNics: [extra] }), renderer);
    expectRendered(renderer, files, { address: "10.0.0.5", prefix: 24, gateway: "10.0.0.1", dns: ["10.0.0.2"] });
    const all = Object.values(files).join("\n");
    expect(all).toMatch(/10\.9\.0\.7(\/25|\b)/);
    // Matched by MAC (sysconfig and NetworkManager write it upper-case); no second default route.
    expect(all.toLowerCase()).toContain(extra.mac);
    expect(all).not.toContain("via 10.9.0.");
  });

  it.each(RENDERERS)("IPv6 with %s: static address, default gateway, DNS", async (renderer) => {
    expectRendered(renderer, await netConvert(seedNetworkConfig(v6), renderer), { address: "fd00::5", prefix: 64, gateway: "fd00::1", dns: ["fd00::2"] });
  });

  it.each(RENDERERS)("dual stack with %s: both addresses, the IPv4 and the IPv6 default route", async (renderer) => {
    const files = await netConvert(seedNetworkConfig(dual), renderer);
    expectRendered(renderer, files, { address: "10.0.0.5", prefix: 24, gateway: "10.0.0.1", dns: ["10.0.0.2"] });
    const all = Object.values(files).join("\n");
    // The IPv6 address with its /64 (sysconfig: IPV6ADDR=…/64), and a default route via the IPv6 gateway, never a
    // narrower ::/64 route (what 22.4 makes of `to: ::/0`).
    expect(all).toMatch(/fd00:0:0:1::5\/64/);
    expect(all).toMatch(
      /(gateway6: fd00:0:0:1::1$|IPV6_DEFAULTGW=fd00:0:0:1::1|^\s*gateway fd00:0:0:1::1$|Gateway=fd00:0:0:1::1|gateway=fd00:0:0:1::1|route=::\/0,fd00:0:0:1::1)/m,
    );
    expect(all).not.toMatch(/::\/64[^\n]*via fd00:0:0:1::1/);
  });
});
