// What an instance's cloud-init seed says, rendered from Anvil's records for the DPU agent's PUT /v1/cidata:
// meta-data (instance-id, host name, the user's SSH keys), network-config v2 with a static address on each NIC
// matched by MAC (the port's MAC, so the name the OS gives the interface doesn't matter; the primary NIC is eth0 with
// the default route and DNS, the others eth<nic index> with their address only),
// and the tenant's user data as given. Also the NVMe host NQN convention for a DPU's initiator.
//
// The default route is never written `to: default`: cloud-init 22.4 (Debian 12) accepts that only in its netplan
// pass-through and raises "Address default is not a valid ip address" in its eni, sysconfig, networkd and
// NetworkManager renderers, so Debian (ifupdown) and RHEL-family guests came up without their address. IPv4 says
// `to: 0.0.0.0/0`; IPv6 says `gateway6:` (22.4 renders `to: ::/0` as a ::/64 route). cidata.test.ts runs the real
// `cloud-init devel net-convert` for every renderer on what this produces (the agent applies the same rewrite to
// seeds from other callers: agent/network-config.ts).
import ipaddr from "ipaddr.js";
import type { CidataSpecInput } from "./client";

/** NVMe qualified name the DPU's initiator presents to storage; targets are exported to exactly this name. */
export function dpuHostNqn(dpuNodeId: string): string {
  return `nqn.2014-08.io.anvil:dpu:${dpuNodeId}`;
}

export interface CidataInput {
  /** Stable per instance (cloud-init runs first-boot modules once per instance-id). */
  instanceId: string;
  hostname: string;
  userData: string;
  sshPublicKeys: string[];
  mac: string;
  /** The port's address and the subnet's prefix, e.g. 10.0.0.5 and 10.0.0.0/24. */
  address: string;
  subnetCidr: string;
  gateway?: string | null;
  dns?: string[];
  mtu?: number;
  /** The instance's other NICs (eth<index>), each matched by its MAC: a static address, no default route. */
  extraNics?: { index: number; mac: string; address: string; subnetCidr: string }[];
}

/** One more NIC of the instance in network-config v2: matched by MAC, named eth<index>, its address only. */
function extraEthernet(n: { mac: string; address: string; subnetCidr: string }) {
  const [, prefix] = ipaddr.parseCIDR(n.subnetCidr);
  return {
    match: { macaddress: n.mac.toLowerCase() },
    addresses: [`${n.address}/${prefix}`],
    ...(ipaddr.parse(n.address).kind() === "ipv6" ? { "accept-ra": false } : {}),
  };
}

export function renderCidata(i: CidataInput): CidataSpecInput {
  const [, prefix] = ipaddr.parseCIDR(i.subnetCidr);
  const family = ipaddr.parse(i.address).kind();
  const gatewayV6 = i.gateway ? ipaddr.parse(i.gateway).kind() === "ipv6" : false;
  return {
    userData: i.userData,
    metaData: {
      "instance-id": i.instanceId,
      "local-hostname": i.hostname,
      ...(i.sshPublicKeys.length ? { "public-keys": i.sshPublicKeys } : {}),
    },
    networkConfig: {
      network: {
        version: 2,
        ethernets: {
          eth0: {
            match: { macaddress: i.mac.toLowerCase() },
            "set-name": "eth0",
            addresses: [`${i.address}/${prefix}`],
            ...(i.gateway ? (gatewayV6 ? { gateway6: i.gateway } : { routes: [{ to: "0.0.0.0/0", via: i.gateway }] }) : {}),
            ...(i.dns?.length ? { nameservers: { addresses: i.dns } } : {}),
            ...(i.mtu ? { mtu: i.mtu } : {}),
            ...(family === "ipv6" ? { "accept-ra": false } : {}),
          },
          ...Object.fromEntries((i.extraNics ?? []).map((n) => [`eth${n.index}`, { ...extraEthernet(n), "set-name": `eth${n.index}` }])),
        },
      },
    },
  };
}
