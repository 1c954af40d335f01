// network-config v2 as every cloud-init renderer reads it, applied when the agent writes a seed's network-config.
//
// Why: `routes: [{to: default, via}]` is valid netplan, but cloud-init 22.4 (Debian 12's) converts v2 to its own
// network state before rendering, and there "default" is parsed as an address: its eni (Debian ifupdown), sysconfig
// (RHEL family), networkd and NetworkManager renderers raise "Address default is not a valid ip address" and the
// guest comes up without its static address. Only the netplan pass-through (Ubuntu) survived it. So a default route
// that carries only `via` becomes the interface's gateway: `gateway4:` / `gateway6:`, which every renderer writes
// natively (ifupdown's `gateway` line, GATEWAY= / IPV6_DEFAULTGW=, Gateway=, gateway=). Not `to: 0.0.0.0/0`: eni
// renders that as `post-up route add default gw …`, net-tools' `route`, which Debian's cloud and minimal images lack —
// the guest kept its address but had no default route, so nothing off its subnet (a floating IP's client) got an
// answer. IPv6 too: 22.4 turns `to: ::/0` into a `::/64` route in sysconfig and networkd. A default route with more
// than `via` (metric, table) cannot be said as a gateway: it is kept as `0.0.0.0/0` / `::/0` (netplan and
// NetworkManager honour it).
import ipaddr from "ipaddr.js";
import type { NetworkV2 } from "./schemas";

type Iface = NonNullable<NetworkV2["ethernets"]>[string];
type Route = NonNullable<Iface["routes"]>[number];

const isDefault = (to: string) => to === "default" || to === "0.0.0.0/0" || to === "::/0";

function portableIface<T extends Pick<Iface, "routes" | "gateway4" | "gateway6">>(iface: T): T {
  if (!iface.routes?.some((r) => isDefault(r.to))) return iface;
  const routes: Route[] = [];
  let gateway4 = iface.gateway4;
  let gateway6 = iface.gateway6;
  for (const r of iface.routes) {
    if (!isDefault(r.to)) {
      routes.push(r);
      continue;
    }
    const v6 = ipaddr.isValid(r.via) && ipaddr.parse(r.via).kind() === "ipv6";
    const bare = Object.keys(r).every((k) => k === "to" || k === "via");
    if (!v6 && bare && !gateway4) gateway4 = r.via;
    else if (v6 && bare && !gateway6) gateway6 = r.via;
    else routes.push({ ...r, to: v6 ? "::/0" : "0.0.0.0/0" });
  }
  const { routes: _old, gateway4: _gw4, gateway6: _gw6, ...rest } = iface;
  return { ...rest, ...(routes.length ? { routes } : {}), ...(gateway4 ? { gateway4 } : {}), ...(gateway6 ? { gateway6 } : {}) } as T;
}

function mapIfaces<T extends Pick<Iface, "routes" | "gateway4" | "gateway6">>(m: Record<string, T> | undefined): Record<string, T> | undefined {
  if (!m) return m;
  return Object.fromEntries(Object.entries(m).map(([id, i]) => [id, portableIface(i)]));
}

/** The same network, with default routes written the way cloud-init 22.4's renderers all understand (see the header). */
export function portableNetworkConfig(nc: { network: NetworkV2 }): { network: NetworkV2 } {
  const n = nc.network;
  return {
    network: {
      ...n,
      ...(n.ethernets ? { ethernets: mapIfaces(n.ethernets) } : {}),
      ...(n.bonds ? { bonds: mapIfaces(n.bonds) } : {}),
      ...(n.vlans ? { vlans: mapIfaces(n.vlans) } : {}),
    },
  };
}
