// The agent rewrites default routes in a seed's network-config so that the guest's cloud-init reads them under every
// renderer: a caller that sends netplan's `to: default` (valid v2, and what Anvil itself sent before) still gets a
// guest with its address and default route on Debian (ifupdown), RHEL (sysconfig), networkd, netplan and
// NetworkManager — checked with the real `cloud-init devel net-convert` (Debian 12's 22.4) on the file the agent writes.
import { describe, expect, it } from "vitest";
import { expectRendered, netConvert, RENDERERS } from "@/test/cloud-init";
import { renderCidataFiles } from "./core";
import { portableNetworkConfig } from "./network-config";
import { CidataSpecSchema } from "./schemas";

function seed(ethernet: Record<string, unknown>) {
  const spec = CidataSpecSchema.parse({
    userData: "#cloud-config\n",
    metaData: { "instance-id": "i-1" },
    networkConfig: { version: 2, ethernets: { eth0: { match: { macaddress: "02:ab:00:00:00:01" }, "set-name": "eth0", ...ethernet } } },
  });
  return renderCidataFiles(spec)["network-config"]!.toString("utf8");
}

describe("portableNetworkConfig", () => {
  it("writes a bare IPv4 default as gateway4 and an IPv6 default as gateway6, leaving other routes alone", () => {
    const out = portableNetworkConfig({
      network: {
        version: 2,
        ethernets: {
          eth0: {
            addresses: ["10.0.0.5/24", "fd00::5/64"],
            routes: [
              { to: "default", via: "10.0.0.1" },
              { to: "default", via: "fd00::1" },
              { to: "192.168.0.0/16", via: "10.0.0.254", metric: 50 },
            ],
          },
        },
        vlans: { v10: { id: 10, link: "eth0", routes: [{ to: "::/0", via: "fd10::1", metric: 10 }] } },
      },
    });
    expect(out.network.ethernets?.eth0).toEqual({
      addresses: ["10.0.0.5/24", "fd00::5/64"],
      routes: [{ to: "192.168.0.0/16", via: "10.0.0.254", metric: 50 }],
      gateway4: "10.0.0.1",
      gateway6: "fd00::1",
    });
    // A metric cannot ride on a gateway: kept as a route (netplan and NetworkManager honour it).
    expect(out.network.vlans?.v10.routes).toEqual([{ to: "::/0", via: "fd10::1", metric: 10 }]);
  });

  it("leaves a config without default routes as it is", () => {
    const nc = { network: { version: 2 as const, ethernets: { eth0: { dhcp4: true } } } };
    expect(portableNetworkConfig(nc)).toEqual(nc);
  });
});

describe("a seed sent with `to: default`, under each cloud-init renderer", () => {
  it.each(RENDERERS)("IPv4 with %s", async (renderer) => {
    const yaml = seed({ addresses: ["10.1.0.7/16"], routes: [{ to: "default", via: "10.1.0.1" }], nameservers: { addresses: ["10.1.0.2", "1.1.1.1"] } });
    expectRendered(renderer, await netConvert(yaml, renderer), { address: "10.1.0.7", prefix: 16, gateway: "10.1.0.1", dns: ["10.1.0.2", "1.1.1.1"] });
  });

  it.each(RENDERERS)("IPv6 with %s", async (renderer) => {
    const yaml = seed({ addresses: ["2001:db8::7/64"], routes: [{ to: "default", via: "2001:db8::1" }], nameservers: { addresses: ["2001:db8::53"] } });
    expectRendered(renderer, await netConvert(yaml, renderer), { address: "2001:db8::7", prefix: 64, gateway: "2001:db8::1", dns: ["2001:db8::53"] });
  });
});
