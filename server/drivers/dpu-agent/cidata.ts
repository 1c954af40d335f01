// What an instance's cloud-init seed says, rendered from Anvil's records for the DPU agent's PUT /v1/cidata:
// meta-data (instance-id, host name, the user's SSH keys), network-config v2 with a static address on each NIC
// matched by MAC (the port's MAC, so the name the OS gives the interface doesn't matter; the primary NIC is eth0 with
// the default route and DNS, the others eth<nic index> with their address only),
// and the tenant's user data as given. A NIC on a dual-stack subnet lists its IPv6 address/64 beside the IPv4 one,
// statically (accept-ra off: the DPU sends no router advertisements); the instance's IPv6 default route goes via the
// IPv6 gateway of its first dual-stack NIC (the primary's when it is dual-stack), one default per family like IPv4. Also the NVMe host NQN convention for a DPU's initiator.
//
// The default route is never written `to: default`: cloud-init 22.4 (Debian 12) accepts that only in its netplan
// pass-through and raises "Address default is not a valid ip address" in its eni, sysconfig, networkd and
// NetworkManager renderers, so Debian (ifupdown) and RHEL-family guests came up without their address. Nor as
// `to: 0.0.0.0/0`: eni renders that as `post-up route add default gw`, net-tools' `route`, absent from Debian's cloud
// images, so the guest had no default route (nothing off its subnet got an answer). It is the NIC's gateway:
// `gateway4:` / `gateway6:` (22.4 renders `to: ::/0` as a ::/64 route). cidata.test.ts runs the real
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
  /** Dual stack: the port's IPv6 address, its subnet's IPv6 /64 and gateway. */
  ipv6?: Ipv6Nic | null;
  /** The instance's other NICs (eth<index>), each matched by its MAC: a static address, no IPv4 default route. */
  extraNics?: { index: number; mac: string; address: string; subnetCidr: string; ipv6?: Ipv6Nic | null }[];
}

export interface Ipv6Nic {
  address: string;
  subnetCidr: string;
  gateway: string;
}

/** A NIC's static addresses: its own with the subnet's prefix, and the IPv6 one on a dual-stack subnet. */
function addressesOf(n: { address: string; subnetCidr: string; ipv6?: Ipv6Nic | null }): string[] {
  const [, prefix] = ipaddr.parseCIDR(n.subnetCidr);
  const v6 = n.ipv6 ? [`${n.ipv6.address}/${ipaddr.parseCIDR(n.ipv6.subnetCidr)[1]}`] : [];
  return [`${n.address}/${prefix}`, ...v6];
}

const hasIpv6 = (n: { address: string; ipv6?: Ipv6Nic | null }) => !!n.ipv6 || ipaddr.parse(n.address).kind() === "ipv6";

/** One more NIC of the instance in network-config v2: matched by MAC, named eth<index>, its addresses (and the IPv6
 *  default route when it is the instance's first dual-stack NIC). */
function extraEthernet(n: { mac: string; address: string; subnetCidr: string; ipv6?: Ipv6Nic | null }, v6Default: boolean) {
  return {
    match: { macaddress: n.mac.toLowerCase() },
    addresses: addressesOf(n),
    ...(v6Default && n.ipv6 ? { gateway6: n.ipv6.gateway } : {}),
    ...(hasIpv6(n) ? { "accept-ra": false } : {}),
  };
}

export function renderCidata(i: CidataInput): CidataSpecInput {
  const gatewayV6 = i.gateway ? ipaddr.parse(i.gateway).kind() === "ipv6" : false;
  // Which NIC carries the IPv6 default route (gateway6, see above): the primary when it has one, else the first other.
  // (An IPv6-only primary already has it as its gateway.)
  const v6DefaultAt = gatewayV6 ? undefined : i.ipv6 ? 0 : (i.extraNics ?? []).find((n) => n.ipv6)?.index;
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
            addresses: addressesOf(i),
            ...(i.gateway ? (gatewayV6 ? { gateway6: i.gateway } : { gateway4: i.gateway }) : {}),
            ...(v6DefaultAt === 0 && i.ipv6 ? { gateway6: i.ipv6.gateway } : {}),
            ...(i.dns?.length ? { nameservers: { addresses: i.dns } } : {}),
            ...(i.mtu ? { mtu: i.mtu } : {}),
            ...(hasIpv6(i) ? { "accept-ra": false } : {}),
          },
          ...Object.fromEntries(
            (i.extraNics ?? []).map((n) => [`eth${n.index}`, { ...extraEthernet(n, v6DefaultAt === n.index), "set-name": `eth${n.index}` }]),
          ),
        },
      },
    },
  };
}
