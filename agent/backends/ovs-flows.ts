// Compiles one NIC (its port, MAC, network and RuleSet) into OpenFlow 1.3 flows for br-int, as text lines for
// `ovs-ofctl add-flows`. Pure, so it is unit-tested without OVS; the linux backend applies it and the OVS test
// proves it with ofproto/trace. Pipeline (modelled on Neutron's OVS firewall, simplified to per-port zones):
//
//   0  classify   from a NIC port with its own MAC -> reg5=port, reg7=network, egress (10); other MAC -> drop.
//                 from the uplink (VLAN tag) or a VXLAN tunnel (tun_id) to a NIC's MAC -> ingress (31).
//                 anything else -> NORMAL (broadcast, traffic of ports the agent does not manage).
//  10  egress     ARP with the NIC's own sender MAC and IPv6 ND pass; IPv4/IPv6 -> ct(zone) -> 11; rest drop.
//  11  egress ct  +est / +rel pass; +inv drop; +new matching an egress rule -> ct(commit) and pass; rest drop.
//  30  forward    to the MAC of a NIC on the same network (reg7) -> that NIC's ingress (31); else NORMAL.
//  31  ingress    ARP and IPv6 ND pass; IPv4/IPv6 -> ct(zone) -> 32; rest drop.
//  32  ingress ct +est / +rel -> output; +inv drop; +new matching an ingress rule -> ct(commit), output; rest drop.
//  33  nd advert  the last step of the NA responder (ndFlows): the target link-layer address, back IN_PORT.
//
// ARP responder (per VNI, cookie overlayCookie(vni)): in table 30, an ARP request from a NIC of the VNI (reg7) for an
// address in the VPC's IPAM table is answered on the DPU — the request is turned into the reply in place and sent
// back out of the port it came in on (IN_PORT) — so it is never flooded over the tunnels. A request from the
// address's own MAC (a duplicate-address probe, a gratuitous ARP) is not answered; an unknown address falls to NORMAL.
// IPv6 addresses likewise: a Neighbor Solicitation becomes the Neighbor Advertisement (naResponder, ndFlows), never for
// a DAD probe (source ::); link-local ND is plain L2 (NORMAL).
//
// Distributed router (per VNI, same cookie, routerFlows): in table 30 the DPU answers ARP and ping for each subnet's
// gateway address (NS and ping for an IPv6 one) with the VNI's router MAC and routes IPv4 and IPv6 sent to that MAC
// to the destination address's MAC (TTL / hop limit - 1), going round table 30 again, so the destination NIC's ingress
// rules apply as for same-subnet traffic.
//
// Provider network (per VNI, same cookie, natFlows; when the router has `external`): conntrack NAT in the VNI's NAT
// zone (one zone per VNI with an external network, allocated by the linux backend from 65535 down and never a NIC's
// zone, which count up from 1). In table 30, IPv4 from a VPC address sent to the router MAC for a destination outside
// every router subnet is committed with nat(src=its floating IP, else snatIp) and goes out of the uplink to the
// provider gateway (eth_src = external.mac, eth_dst = gatewayMac, TTL - 1, VLAN pushed when set); without either it
// is dropped. From the uplink (the provider VLAN or untagged), ARP requests for snatIp and the floating IPs are
// answered with external.mac, and IPv4 to external.mac for one of them goes through ct(nat) in the zone to:
//  40  provider in  +est / +rel (un-NATed: a reply to SNAT or floating-IP traffic) -> 41; +new to a floating IP ->
//                   ct(commit, nat(dst=fixed address)) and routed to it; rest (unsolicited to snatIp, +inv) drop.
//  41  provider route  to a VPC address: router MAC as source, the address's MAC as destination, TTL - 1, round
//                   table 30 again, so the NIC's ingress rules (31/32) apply as for any routed packet.
//
// NORMAL does the L2 learning/flooding; isolation between networks comes from the port's VLAN tag (VXLAN
// networks get a local VLAN on br-int, like Neutron) and from reg7 in table 30.
import ipaddr from "ipaddr.js";
import { portRangeToMasks, type Rule, type RuleSet } from "../rules";

export const TABLE = {
  classify: 0,
  egress: 10,
  egressCt: 11,
  forward: 30,
  ingress: 31,
  ingressCt: 32,
  ndAdvert: 33,
  providerIn: 40,
  providerRoute: 41,
} as const;

/** All agent flows carry this cookie prefix (top 16 bits), so reset can delete exactly what the agent added. */
export const COOKIE_PREFIX = 0xa4e1n << 48n;
export const COOKIE_MASK = 0xffffn << 48n;

export const cookieFor = (id: number): string => `0x${(COOKIE_PREFIX | BigInt(id)).toString(16)}`;
export const cookieMatch = (id: number): string => `${cookieFor(id)}/-1`;
export const allAgentCookies = (): string => `0x${COOKIE_PREFIX.toString(16)}/0x${COOKIE_MASK.toString(16)}`;

export interface NicFlowInput {
  /** Per-NIC id: low bits of the cookie and the conntrack zone. 1..65535. */
  id: number;
  ofport: number;
  mac: string;
  /** Network key in reg7: equal for NICs on the same network, different otherwise. */
  netKey: number;
  network: { type: "vlan"; vlanId: number; uplinkOfport?: number } | { type: "vxlan"; vni: number };
  rules: RuleSet;
}

/** Cookie of a VNI's ARP responder flows: bit 32 set keeps it apart from the NIC ids (1..65535) in the low bits. */
export const overlayCookie = (vni: number): string => `0x${(COOKIE_PREFIX | (1n << 32n) | BigInt(vni)).toString(16)}`;

const isV6 = (ip: string): boolean => ip.includes(":");

/** Whether `ip` is inside one of `cidrs` of its own family. */
function insideAny(ip: string, cidrs: readonly string[]): boolean {
  const a = ipaddr.parse(ip);
  return cidrs.some((c) => {
    const [net, len] = ipaddr.parseCIDR(c);
    return a.kind() === "ipv4" && net.kind() === "ipv4"
      ? (a as ipaddr.IPv4).match(net as ipaddr.IPv4, len)
      : a.kind() === "ipv6" && net.kind() === "ipv6" && (a as ipaddr.IPv6).match(net as ipaddr.IPv6, len);
  });
}

/** Neighbor Advertisement flags (the ICMPv6 reserved word, nd_reserved): router, solicited, override. */
const NA_ROUTER = 0x80000000;
const NA_SOLICITED = 0x40000000;
const NA_OVERRIDE = 0x20000000;

/**
 * A Neighbor Solicitation from a NIC of the VNI for `ip` answered in place with the Neighbor Advertisement for `mac`:
 * addresses swapped (the NA goes to the soliciter's address, from the target; eth_src = `mac`), the NS's source
 * link-layer option retyped as the target link-layer option, the flags, type 136; the target stays as asked. Table 33
 * (ndFlows) then writes `mac` (the new eth_src) into that option and sends it back out of the asking port. Two steps
 * because OVS checks a set_field's prerequisites against the flow's match, and nd_tll needs an NA (type 136); setting
 * the NS's own nd_sll instead would not do, as the datapath actions retype the option before writing the address. OVS
 * keeps the ICMPv6 checksum right through these sets (guests' own stacks accept the NA, linux-ipv6.test.ts).
 */
function naResponder(c: string, key: number, ip: string, mac: string, flags: number): string {
  return (
    `${c},table=${TABLE.forward},priority=110,reg7=${key},icmp6,icmp_type=135,icmp_code=0,nd_target=${ip} actions=` +
    [
      "move:NXM_OF_ETH_SRC[]->NXM_OF_ETH_DST[]",
      `set_field:${mac}->eth_src`,
      "move:NXM_NX_IPV6_SRC[]->NXM_NX_IPV6_DST[]",
      `set_field:${ip}->ipv6_src`,
      "set_field:2->nd_options_type",
      `set_field:0x${(flags >>> 0).toString(16)}->nd_reserved`,
      "set_field:136->icmpv6_type",
      `resubmit(,${TABLE.ndAdvert})`,
    ].join(",")
  );
}

/**
 * The flows every VNI with an IPv6 neighbor or gateway needs once, beside its NA responders: table 33, the NA's last
 * step (see naResponder; reached only from a responder), and the Neighbor Solicitations the responders must leave to
 * NORMAL: a Duplicate Address Detection probe (source ::; answering it would fail the guest's own address) and a
 * solicitation without a source link-layer option (no option to turn into the target link-layer one; DAD probes never
 * carry one, a unicast reachability probe may lack it, and its target answers it itself).
 */
export function ndFlows(vni: number): string[] {
  const c = `cookie=${overlayCookie(vni)}`;
  const key = networkKey({ type: "vxlan", vni });
  return [
    `${c},table=${TABLE.forward},priority=120,reg7=${key},icmp6,icmp_type=135,ipv6_src=:: actions=NORMAL`,
    `${c},table=${TABLE.forward},priority=120,reg7=${key},icmp6,icmp_type=135,nd_sll=00:00:00:00:00:00 actions=NORMAL`,
    `${c},table=${TABLE.ndAdvert},priority=100,reg7=${key},icmp6,icmp_type=136,icmp_code=0 actions=move:NXM_OF_ETH_SRC[]->NXM_NX_ND_TLL[],IN_PORT`,
  ];
}

/**
 * The neighbor responder of one VNI: a reply flow per IPAM address (ip -> mac) for requests from the VNI's NICs, an
 * ARP reply for an IPv4 address, a Neighbor Advertisement (solicited, override) for an IPv6 one (with ndFlows).
 */
export function arpResponderFlows(vni: number, neighbors: readonly { ip: string; mac: string }[]): string[] {
  const c = `cookie=${overlayCookie(vni)}`;
  const key = networkKey({ type: "vxlan", vni });
  const out: string[] = [];
  for (const { ip, mac } of neighbors) {
    if (isV6(ip)) {
      out.push(naResponder(c, key, ip, mac, NA_SOLICITED | NA_OVERRIDE));
      continue;
    }
    // The owner asking for its own address (DAD probe, gratuitous ARP) must not hear "someone has it".
    out.push(`${c},table=${TABLE.forward},priority=120,reg7=${key},arp,arp_op=1,arp_tpa=${ip},arp_sha=${mac} actions=NORMAL`);
    out.push(
      `${c},table=${TABLE.forward},priority=110,reg7=${key},arp,arp_op=1,arp_tpa=${ip} actions=` +
        [
          "move:NXM_OF_ETH_SRC[]->NXM_OF_ETH_DST[]",
          `set_field:${mac}->eth_src`,
          "set_field:2->arp_op",
          "move:NXM_NX_ARP_SHA[]->NXM_NX_ARP_THA[]",
          "move:NXM_OF_ARP_SPA[]->NXM_OF_ARP_TPA[]",
          `set_field:${mac}->arp_sha`,
          `set_field:${ip}->arp_spa`,
          "IN_PORT",
        ].join(","),
    );
  }
  return out;
}

/**
 * The distributed router of one VNI (same cookie as its ARP responder, so the overlay's DELETE removes both), in
 * table 30 for packets from the VNI's NICs (reg7) that passed their egress rules:
 *  - an ARP request for an IPv4 gateway address is answered with the router MAC, back out of the asking port; a
 *    Neighbor Solicitation for an IPv6 one with a Neighbor Advertisement (router, solicited, override) likewise;
 *  - an ICMP echo request to a gateway address (sent to the router MAC) becomes the echo reply in place (MACs and
 *    addresses swapped, type 0; ICMPv6 128 -> 129), back out of the asking port;
 *  - IPv4 / IPv6 to the router MAC for an IPAM address inside one of the router's subnets of its family gets the router
 *    MAC as source, the address's MAC as destination and TTL / hop limit - 1 (dec_ttl: a packet whose TTL runs out is
 *    dropped, there being no controller), and goes round table 30 again: to the destination NIC's own ingress (31)
 *    when it is on this DPU, to NORMAL (the tunnels) when it is on another;
 *  - anything else sent to the router MAC is dropped (the router port never leaves the DPU).
 */
export function routerFlows(
  vni: number,
  router: { mac: string; subnets: readonly { cidr: string; gateway: string }[] },
  neighbors: readonly { ip: string; mac: string }[],
): string[] {
  const c = `cookie=${overlayCookie(vni)}`;
  const key = networkKey({ type: "vxlan", vni });
  const R = router.mac;
  const out: string[] = [];
  for (const { gateway } of router.subnets) {
    if (isV6(gateway)) {
      out.push(naResponder(c, key, gateway, R, NA_ROUTER | NA_SOLICITED | NA_OVERRIDE));
      out.push(
        `${c},table=${TABLE.forward},priority=110,reg7=${key},icmp6,icmp_type=128,icmp_code=0,dl_dst=${R},ipv6_dst=${gateway} actions=` +
          [
            "move:NXM_OF_ETH_SRC[]->NXM_OF_ETH_DST[]",
            `set_field:${R}->eth_src`,
            "move:NXM_NX_IPV6_SRC[]->NXM_NX_IPV6_DST[]",
            `set_field:${gateway}->ipv6_src`,
            "set_field:129->icmpv6_type",
            "IN_PORT",
          ].join(","),
      );
      continue;
    }
    out.push(
      `${c},table=${TABLE.forward},priority=110,reg7=${key},arp,arp_op=1,arp_tpa=${gateway} actions=` +
        [
          "move:NXM_OF_ETH_SRC[]->NXM_OF_ETH_DST[]",
          `set_field:${R}->eth_src`,
          "set_field:2->arp_op",
          "move:NXM_NX_ARP_SHA[]->NXM_NX_ARP_THA[]",
          "move:NXM_OF_ARP_SPA[]->NXM_OF_ARP_TPA[]",
          `set_field:${R}->arp_sha`,
          `set_field:${gateway}->arp_spa`,
          "IN_PORT",
        ].join(","),
    );
    out.push(
      `${c},table=${TABLE.forward},priority=110,reg7=${key},icmp,icmp_type=8,icmp_code=0,dl_dst=${R},nw_dst=${gateway} actions=` +
        [
          "move:NXM_OF_ETH_SRC[]->NXM_OF_ETH_DST[]",
          `set_field:${R}->eth_src`,
          "move:NXM_OF_IP_SRC[]->NXM_OF_IP_DST[]",
          `set_field:${gateway}->ip_src`,
          "set_field:0->icmp_type",
          "IN_PORT",
        ].join(","),
    );
  }
  const cidrs = router.subnets.map((s) => s.cidr);
  for (const { ip, mac } of neighbors) {
    if (!insideAny(ip, cidrs)) continue;
    out.push(
      `${c},table=${TABLE.forward},priority=105,reg7=${key},${isV6(ip) ? `ipv6,dl_dst=${R},ipv6_dst=${ip}` : `ip,dl_dst=${R},nw_dst=${ip}`} actions=` +
        `set_field:${R}->eth_src,set_field:${mac}->eth_dst,dec_ttl,resubmit(,${TABLE.forward})`,
    );
  }
  out.push(`${c},table=${TABLE.forward},priority=101,reg7=${key},dl_dst=${R} actions=drop`);
  return out;
}

/** Where the provider network is: the uplink's OpenFlow port and the VNI's conntrack zone for NAT. */
export interface NatPlacement {
  uplinkOfport: number;
  zone: number;
}

/**
 * A gratuitous ARP (a request whose sender and target are `ip`, from `mac`, to broadcast; 802.1Q-tagged when `vlanId`
 * is set), as hex for `ovs-ofctl packet-out`: how a DPU that takes over a provider address (a floating IP moved here
 * from another DPU) makes the provider segment's switches and gateway send to it at once, instead of to the former
 * DPU until their ARP entries expire (tens of seconds on Linux, often minutes on routers).
 */
export function gratuitousArp(mac: string, ip: string, vlanId?: number): string {
  const m = mac.toLowerCase().split(":").join("");
  const a = ip
    .split(".")
    .map((o) => Number(o).toString(16).padStart(2, "0"))
    .join("");
  const tag = vlanId ? `8100${vlanId.toString(16).padStart(4, "0")}` : "";
  return `ffffffffffff${m}${tag}0806` + `0001080006040001${m}${a}000000000000${a}`;
}

/**
 * The router's provider side (router.external) of one VNI, same cookie as routerFlows (see the header): SNAT and
 * floating IPs by conntrack NAT in `at.zone`, out of and in from `at.uplinkOfport`. Empty when there is no external.
 */
export function natFlows(
  vni: number,
  router: {
    mac: string;
    subnets: readonly { cidr: string }[];
    external?: {
      vlanId?: number;
      mac: string;
      gatewayMac: string;
      snatIp?: string;
      floatingIps: readonly { ip: string; fixedIp: string }[];
    };
  },
  neighbors: readonly { ip: string; mac: string }[],
  at: NatPlacement,
): string[] {
  const e = router.external;
  if (!e) return [];
  const c = `cookie=${overlayCookie(vni)}`;
  const key = networkKey({ type: "vxlan", vni });
  const R = router.mac;
  const Z = at.zone;
  const U = at.uplinkOfport;
  const out: string[] = [];
  const f = (table: number, priority: number, match: string, actions: string) =>
    out.push(`${c},table=${table},priority=${priority},${match} actions=${actions}`);
  // NAT is IPv4's (no NAT66): the IPv6 subnets and addresses of the VPC never reach these flows.
  const subnets = router.subnets.filter((s) => !isV6(s.cidr));
  const inVpc = neighbors.filter(
    ({ ip }) =>
      !isV6(ip) &&
      insideAny(
        ip,
        subnets.map((s) => s.cidr),
      ),
  );
  const macOf = new Map(inVpc.map((n) => [n.ip, n.mac]));
  // The provider VLAN on the uplink: matched and popped on the way in, pushed on the way out.
  const vlanMatch = e.vlanId === undefined ? "vlan_tci=0x0000/0x1fff" : `dl_vlan=${e.vlanId}`;
  const pop = e.vlanId === undefined ? "" : "pop_vlan,";
  const push = e.vlanId === undefined ? "" : `push_vlan:0x8100,set_field:${0x1000 | e.vlanId}->vlan_vid,`;
  const toProvider = `set_field:${e.mac}->eth_src,set_field:${e.gatewayMac}->eth_dst,dec_ttl,${push}output:${U}`;
  const toVpc = (mac: string) => `set_field:${R}->eth_src,set_field:${mac}->eth_dst,dec_ttl,resubmit(,${TABLE.forward})`;

  // 30: out. Destinations inside the VPC are the router's (routerFlows, priority 105) or nobody's: never NATed.
  for (const s of subnets) f(TABLE.forward, 104, `reg7=${key},ip,dl_dst=${R},nw_dst=${s.cidr}`, "drop");
  // A floating IP is its address's only when sent from that address's MAC (another NIC using the address is SNATed).
  for (const { ip, fixedIp } of e.floatingIps) {
    const mac = macOf.get(fixedIp);
    if (mac) f(TABLE.forward, 103, `reg7=${key},ip,dl_src=${mac},dl_dst=${R},nw_src=${fixedIp}`, `ct(commit,zone=${Z},nat(src=${ip})),${toProvider}`);
  }
  if (e.snatIp !== undefined)
    for (const s of subnets) f(TABLE.forward, 102, `reg7=${key},ip,dl_dst=${R},nw_src=${s.cidr}`, `ct(commit,zone=${Z},nat(src=${e.snatIp})),${toProvider}`);

  // 0: in from the provider network, for the router's own addresses there.
  const own = [...(e.snatIp === undefined ? [] : [e.snatIp]), ...e.floatingIps.map((x) => x.ip)];
  for (const ip of own) {
    f(
      TABLE.classify,
      110,
      `in_port=${U},${vlanMatch},arp,arp_op=1,arp_tpa=${ip}`,
      [
        "move:NXM_OF_ETH_SRC[]->NXM_OF_ETH_DST[]",
        `set_field:${e.mac}->eth_src`,
        "set_field:2->arp_op",
        "move:NXM_NX_ARP_SHA[]->NXM_NX_ARP_THA[]",
        "move:NXM_OF_ARP_SPA[]->NXM_OF_ARP_TPA[]",
        `set_field:${e.mac}->arp_sha`,
        `set_field:${ip}->arp_spa`,
        "IN_PORT",
      ].join(","),
    );
    f(
      TABLE.classify,
      105,
      `in_port=${U},${vlanMatch},ip,dl_dst=${e.mac},nw_dst=${ip}`,
      `${pop}set_field:${key}->reg7,ct(table=${TABLE.providerIn},zone=${Z},nat)`,
    );
  }
  f(TABLE.classify, 101, `in_port=${U},${vlanMatch},dl_dst=${e.mac}`, "drop");

  // 40: after ct(nat). Replies (un-NATed by ct) are routed by their VPC address; new connections only to a floating IP.
  f(TABLE.providerIn, 100, `reg7=${key},ct_state=+trk+inv`, "drop");
  f(TABLE.providerIn, 90, `reg7=${key},ip,ct_state=+trk+est-inv`, `resubmit(,${TABLE.providerRoute})`);
  f(TABLE.providerIn, 90, `reg7=${key},ip,ct_state=+trk+rel-inv`, `resubmit(,${TABLE.providerRoute})`);
  for (const { ip, fixedIp } of e.floatingIps) {
    const mac = macOf.get(fixedIp);
    if (mac) f(TABLE.providerIn, 80, `reg7=${key},ip,ct_state=+trk+new-est-rel-inv,nw_dst=${ip}`, `ct(commit,zone=${Z},nat(dst=${fixedIp})),${toVpc(mac)}`);
  }
  f(TABLE.providerIn, 1, `reg7=${key}`, "drop");

  // 41: to the VPC address the reply belongs to.
  for (const { ip, mac } of inVpc) f(TABLE.providerRoute, 100, `reg7=${key},ip,nw_dst=${ip}`, toVpc(mac));
  f(TABLE.providerRoute, 1, `reg7=${key}`, "drop");
  return out;
}

/** VLAN networks use their id; VXLAN networks 0x1000000 | VNI, so the two kinds never collide. */
export function networkKey(network: { type: "vlan"; vlanId: number } | { type: "vxlan"; vni: number }): number {
  return network.type === "vlan" ? network.vlanId : 0x1000000 | network.vni;
}

/** Table defaults: unmanaged traffic switches normally; the firewall tables drop what no NIC flow accepted. */
export function baseFlows(): string[] {
  const c = cookieFor(0);
  return [
    `cookie=${c},table=${TABLE.classify},priority=0 actions=NORMAL`,
    `cookie=${c},table=${TABLE.egress},priority=0 actions=drop`,
    `cookie=${c},table=${TABLE.egressCt},priority=0 actions=drop`,
    `cookie=${c},table=${TABLE.forward},priority=0 actions=NORMAL`,
    `cookie=${c},table=${TABLE.ingress},priority=0 actions=drop`,
    `cookie=${c},table=${TABLE.ingressCt},priority=0 actions=drop`,
  ];
}

/** The match part of one rule; `remote` is nw_src for ingress and nw_dst for egress. */
function ruleMatches(rule: Rule, direction: "ingress" | "egress"): string[] {
  const v6 = rule.ethertype === "ipv6";
  const proto = rule.protocol === "any" ? (v6 ? "ipv6" : "ip") : rule.protocol === "icmp" ? (v6 ? "icmp6" : "icmp") : v6 ? `${rule.protocol}6` : rule.protocol;
  const field = v6 ? (direction === "ingress" ? "ipv6_src" : "ipv6_dst") : direction === "ingress" ? "nw_src" : "nw_dst";
  const prefix = Number(rule.cidr.split("/")[1]);
  const remote = prefix === 0 ? "" : `,${field}=${rule.cidr}`;
  if (rule.protocol !== "tcp" && rule.protocol !== "udp") return [`${proto}${remote}`];
  const min = rule.portMin ?? 1;
  const max = rule.portMax ?? rule.portMin ?? 65535;
  if (min === 1 && max === 65535) return [`${proto}${remote}`];
  return portRangeToMasks(min, max).map(
    ({ value, mask }) => `${proto}${remote},tp_dst=${mask === 0xffff ? value : `0x${value.toString(16)}/0x${mask.toString(16)}`}`,
  );
}

const ND_EGRESS = [133, 135, 136]; // router solicitation, neighbour solicitation, neighbour advertisement
const ND_INGRESS = [134, 135, 136]; // router advertisement, neighbour solicitation, neighbour advertisement

export function nicFlows(n: NicFlowInput): string[] {
  const c = `cookie=${cookieFor(n.id)}`;
  const z = n.id;
  const P = n.ofport;
  const out: string[] = [];
  const f = (table: number, priority: number, match: string, actions: string) =>
    out.push(`${c},table=${table},priority=${priority},${match} actions=${actions}`);

  // 0: classify
  f(TABLE.classify, 100, `in_port=${P},dl_src=${n.mac}`, `set_field:${P}->reg5,set_field:${n.netKey}->reg7,resubmit(,${TABLE.egress})`);
  f(TABLE.classify, 90, `in_port=${P}`, "drop");
  if (n.network.type === "vlan" && n.network.uplinkOfport !== undefined) {
    f(
      TABLE.classify,
      100,
      `in_port=${n.network.uplinkOfport},dl_vlan=${n.network.vlanId},dl_dst=${n.mac}`,
      `pop_vlan,set_field:${P}->reg5,resubmit(,${TABLE.ingress})`,
    );
  }
  if (n.network.type === "vxlan") {
    f(TABLE.classify, 100, `tun_id=${n.network.vni},dl_dst=${n.mac}`, `set_field:${P}->reg5,resubmit(,${TABLE.ingress})`);
  }

  // 10/11: egress
  f(TABLE.egress, 100, `reg5=${P},arp,arp_sha=${n.mac}`, `resubmit(,${TABLE.forward})`);
  for (const t of ND_EGRESS) f(TABLE.egress, 100, `reg5=${P},icmp6,icmp_type=${t}`, `resubmit(,${TABLE.forward})`);
  f(TABLE.egress, 90, `reg5=${P},ip`, `ct(table=${TABLE.egressCt},zone=${z})`);
  f(TABLE.egress, 90, `reg5=${P},ipv6`, `ct(table=${TABLE.egressCt},zone=${z})`);
  f(TABLE.egressCt, 100, `reg5=${P},ct_state=+trk+inv`, "drop");
  f(TABLE.egressCt, 90, `reg5=${P},ct_state=+trk+est-inv`, `resubmit(,${TABLE.forward})`);
  f(TABLE.egressCt, 90, `reg5=${P},ct_state=+trk+rel-inv`, `resubmit(,${TABLE.forward})`);
  for (const rule of n.rules.egress) {
    for (const m of ruleMatches(rule, "egress"))
      f(TABLE.egressCt, 50, `reg5=${P},ct_state=+trk+new-est-rel-inv,${m}`, `ct(commit,zone=${z}),resubmit(,${TABLE.forward})`);
  }

  // 30: delivery to this NIC from a NIC on the same network goes through this NIC's ingress rules.
  f(TABLE.forward, 100, `reg7=${n.netKey},dl_dst=${n.mac}`, `set_field:${P}->reg5,resubmit(,${TABLE.ingress})`);

  // 31/32: ingress
  f(TABLE.ingress, 100, `reg5=${P},arp`, `output:${P}`);
  for (const t of ND_INGRESS) f(TABLE.ingress, 100, `reg5=${P},icmp6,icmp_type=${t}`, `output:${P}`);
  f(TABLE.ingress, 90, `reg5=${P},ip`, `ct(table=${TABLE.ingressCt},zone=${z})`);
  f(TABLE.ingress, 90, `reg5=${P},ipv6`, `ct(table=${TABLE.ingressCt},zone=${z})`);
  f(TABLE.ingressCt, 100, `reg5=${P},ct_state=+trk+inv`, "drop");
  f(TABLE.ingressCt, 90, `reg5=${P},ct_state=+trk+est-inv`, `output:${P}`);
  f(TABLE.ingressCt, 90, `reg5=${P},ct_state=+trk+rel-inv`, `output:${P}`);
  for (const rule of n.rules.ingress) {
    for (const m of ruleMatches(rule, "ingress")) f(TABLE.ingressCt, 50, `reg5=${P},ct_state=+trk+new-est-rel-inv,${m}`, `ct(commit,zone=${z}),output:${P}`);
  }
  return out;
}
