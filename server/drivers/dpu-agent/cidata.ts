// What an instance's cloud-init seed says, rendered from Anvil's records for the DPU agent's PUT /v1/cidata:
// meta-data (instance-id, host name, the user's SSH keys), network-config v2 with a static address on the NIC
// matched by MAC (the port's MAC, so the name the OS gives the interface doesn't matter), default route and DNS,
// and the tenant's user data as given. Also the NVMe host NQN convention for a DPU's initiator.
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
}

export function renderCidata(i: CidataInput): CidataSpecInput {
  const [, prefix] = ipaddr.parseCIDR(i.subnetCidr);
  const family = ipaddr.parse(i.address).kind();
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
            ...(i.gateway ? { routes: [{ to: "default", via: i.gateway }] } : {}),
            ...(i.dns?.length ? { nameservers: { addresses: i.dns } } : {}),
            ...(i.mtu ? { mtu: i.mtu } : {}),
            ...(family === "ipv6" ? { "accept-ra": false } : {}),
          },
        },
      },
    },
  };
}
