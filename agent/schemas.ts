// Request bodies of the agent's REST API as zod schemas (the single source of each shape; the OpenAPI file
// documents the same fields). Parsing also normalizes (lower-case MACs, default ports, network-config wrapped
// in `network:`), so idempotency compares normalized specs and "same body" means "same meaning".
import ipaddr from "ipaddr.js";
import { z } from "zod";
import { RuleSetSchema } from "./rules";

export const USER_DATA_MAX_BYTES = 64 * 1024;

/** Resource names become SPDK bdev names and OVS external-ids, so keep them DNS-label-like. */
export const NameSchema = z
  .string()
  .regex(/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/, "must be 1-63 characters of a-z, 0-9 and '-', starting and ending with a letter or digit");

const ipAddress = z.string().refine((s) => ipaddr.isValid(s), { message: "must be an IPv4 or IPv6 address" });
const cidr = z.string().refine(
  (s) => {
    try {
      ipaddr.parseCIDR(s);
      return true;
    } catch {
      return false;
    }
  },
  { message: "must be an address with prefix length, e.g. 10.0.0.5/24" },
);
const hostAddress = z
  .string()
  .min(1)
  .max(253)
  .refine((s) => ipaddr.isValid(s) || /^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/i.test(s), {
    message: "must be an IP address or a DNS name",
  });
const tcpPort = z.int().min(1).max(65535);

export const MacSchema = z
  .string()
  .regex(/^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$/, "must be a MAC address like 02:00:00:00:00:01")
  .transform((s) => s.toLowerCase())
  .refine((s) => (Number.parseInt(s.slice(0, 2), 16) & 1) === 0, { message: "must be a unicast MAC (first octet even)" })
  .refine((s) => s !== "00:00:00:00:00:00", { message: "must not be all zeros" });

// ---- disks -------------------------------------------------------------------------------------------------

const NQN = z
  .string()
  .max(223)
  .regex(/^nqn\.\d{4}-\d{2}\.[A-Za-z0-9.-]+:.+$/, "must be an NVMe qualified name like nqn.2014-08.org.example:vol1");
const IQN = z
  .string()
  .max(223)
  .regex(/^iqn\.\d{4}-\d{2}\.[A-Za-z0-9.-]+(:.+)?$/, "must be an iSCSI qualified name like iqn.2016-01.org.example:vol1");

const diskCommon = {
  role: z.enum(["boot", "data"]),
  readOnly: z.boolean().default(false),
};

/** Ceph pool, namespace and image names: what `rbd` accepts without quoting (no '/', '@' or spaces). */
const cephName = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[A-Za-z0-9_][A-Za-z0-9_.-]*$/, "must be 1-128 characters of A-Z, a-z, 0-9, '_', '.' and '-'");
/** A Ceph monitor as host:port (IPv6 in brackets); the port defaults to 3300 (msgr2). Normalized to host:port. */
const cephMonitor = z
  .string()
  .max(260)
  .transform((s, ctx) => {
    const m = /^(?:\[([0-9A-Fa-f:.]+)\]|([^:[\]]+))(?::(\d{1,5}))?$/.exec(s);
    const host = m?.[1] ?? m?.[2];
    const port = m?.[3] === undefined ? 3300 : Number(m[3]);
    if (!m || !host || (m[1] !== undefined && !ipaddr.isValid(host)) || !hostAddress.safeParse(host).success || port < 1 || port > 65535) {
      ctx.addIssue({ code: "custom", message: "must be a monitor address like 127.0.0.1:3300 or [fd00::1]:3300" });
      return z.NEVER;
    }
    return m[1] !== undefined ? `[${host}]:${port}` : `${host}:${port}`;
  });
/** A cephx secret as `ceph auth get-key` prints it (base64). The message never repeats the value. */
const cephxKey = z
  .string()
  .regex(/^(?:[A-Za-z0-9+/]{4}){4,32}(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/, "must be a cephx secret in base64, as `ceph auth get-key` prints it");

/** Splits a normalized monitor ("host:port" or "[v6]:port") into its parts. */
export function parseMonitor(mon: string): { host: string; port: number } {
  const i = mon.lastIndexOf(":");
  const host = mon.slice(0, i);
  return { host: host.startsWith("[") ? host.slice(1, -1) : host, port: Number(mon.slice(i + 1)) };
}

export const DiskSpecSchema = z.discriminatedUnion("transport", [
  z
    .object({
      transport: z.literal("nvme-tcp"),
      target: z.object({ nqn: NQN, address: hostAddress, port: tcpPort.default(4420) }).strict(),
      hostNqn: NQN,
      ...diskCommon,
    })
    .strict(),
  z
    .object({
      transport: z.literal("iscsi"),
      target: z.object({ iqn: IQN, address: hostAddress, port: tcpPort.default(3260), lun: z.int().min(0).max(255).default(0) }).strict(),
      initiatorIqn: IQN,
      ...diskCommon,
    })
    .strict(),
  z
    .object({
      transport: z.literal("rbd"),
      target: z
        .object({
          pool: cephName,
          namespace: cephName.optional(),
          image: cephName,
          monitors: z.array(cephMonitor).min(1).max(16),
          /** Ceph client name without the "client." prefix, e.g. "admin". */
          user: z.string().regex(/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$/, "must be a Ceph client name without the client. prefix, e.g. admin"),
        })
        .strict(),
      /** cephx secret; never echoed in replies, inventory, logs or errors (see publicDiskSpec). */
      key: cephxKey,
      ...diskCommon,
    })
    .strict(),
]);
export type DiskSpec = z.infer<typeof DiskSpecSchema>;
/** A disk spec as the agent shows it: everything but secrets. */
export type PublicDiskSpec = DiskSpec extends infer D ? (D extends { key: string } ? Omit<D, "key"> : D) : never;

/** The spec without its secret (rbd's cephx key), for replies and inventory. */
export function publicDiskSpec(spec: DiskSpec): PublicDiskSpec {
  if (spec.transport !== "rbd") return spec;
  const { key: _secret, ...rest } = spec;
  return rest;
}

/** What identifies the remote volume, so one volume is attached at most once per DPU. */
export function diskTargetId(spec: DiskSpec): string {
  if (spec.transport === "nvme-tcp") return spec.target.nqn;
  if (spec.transport === "iscsi") return spec.target.iqn;
  return `rbd:${spec.target.pool}/${spec.target.namespace ? `${spec.target.namespace}/` : ""}${spec.target.image}`;
}

// ---- cidata ------------------------------------------------------------------------------------------------

const USER_DATA_HEADERS = ["#cloud-config", "#!", "#include", "#cloud-boothook", "#part-handler", "## template: jinja", "Content-Type:", "MIME-Version:"];

const UserDataSchema = z
  .string()
  .refine((s) => Buffer.byteLength(s, "utf8") <= USER_DATA_MAX_BYTES, {
    message: `must be at most ${USER_DATA_MAX_BYTES} bytes (64 KiB); put large payloads behind #include or in the image`,
    params: { agentCode: "user_data_too_large" },
  })
  .refine((s) => s === "" || USER_DATA_HEADERS.some((h) => s.startsWith(h)), {
    message: "must start with #cloud-config, #! (a script), #include, #cloud-boothook or a MIME header, as cloud-init requires",
  });

const metaValue: z.ZodType<unknown> = z.union([z.string(), z.number(), z.boolean(), z.array(z.string()), z.record(z.string(), z.string())]);
const MetaDataSchema = z
  .object({
    "instance-id": z
      .string()
      .min(1)
      .max(255)
      .regex(/^[^\n\r]+$/, "must be one line"),
    "local-hostname": z
      .string()
      .max(253)
      .regex(/^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$/, "must be a host name")
      .optional(),
  })
  .catchall(metaValue);

const ifaceId = z.string().regex(/^[A-Za-z0-9_.:-]{1,15}$/, "must be an interface id of 1-15 characters");
const Nameservers = z.object({ addresses: z.array(ipAddress).optional(), search: z.array(z.string().min(1)).optional() }).strict();
const Route = z
  .object({
    to: z.union([z.literal("default"), cidr, ipAddress]),
    via: ipAddress,
    metric: z.int().min(0).optional(),
    "on-link": z.boolean().optional(),
    table: z.int().min(0).optional(),
  })
  .strict();
const ifaceCommon = {
  dhcp4: z.boolean().optional(),
  dhcp6: z.boolean().optional(),
  addresses: z.array(cidr).optional(),
  routes: z.array(Route).optional(),
  nameservers: Nameservers.optional(),
  mtu: z.int().min(68).max(9216).optional(),
  gateway4: ipAddress.optional(),
  gateway6: ipAddress.optional(),
  optional: z.boolean().optional(),
  "accept-ra": z.boolean().optional(),
  macaddress: MacSchema.optional(),
};
const Ethernet = z
  .object({
    match: z
      .object({ macaddress: MacSchema.optional(), name: z.string().min(1).optional(), driver: z.string().min(1).optional() })
      .strict()
      .optional(),
    "set-name": ifaceId.optional(),
    wakeonlan: z.boolean().optional(),
    ...ifaceCommon,
  })
  .strict()
  .refine((e) => !e["set-name"] || e.match, { message: "set-name needs a match (e.g. match.macaddress)", path: ["set-name"] });
const Bond = z.object({ interfaces: z.array(ifaceId).min(1), parameters: z.record(z.string(), z.unknown()).optional(), ...ifaceCommon }).strict();
const Vlan = z.object({ id: z.int().min(0).max(4094), link: ifaceId, ...ifaceCommon }).strict();

export const NetworkV2Schema = z
  .object({
    version: z.literal(2),
    renderer: z.enum(["networkd", "NetworkManager"]).optional(),
    ethernets: z.record(ifaceId, Ethernet).optional(),
    bonds: z.record(ifaceId, Bond).optional(),
    vlans: z.record(ifaceId, Vlan).optional(),
  })
  .strict()
  .superRefine((net, ctx) => {
    const defined = new Set([...Object.keys(net.ethernets ?? {}), ...Object.keys(net.bonds ?? {}), ...Object.keys(net.vlans ?? {})]);
    for (const [id, bond] of Object.entries(net.bonds ?? {})) {
      bond.interfaces.forEach((m, i) => {
        if (!net.ethernets?.[m])
          ctx.addIssue({ code: "custom", path: ["bonds", id, "interfaces", i], message: `bond member "${m}" is not defined under ethernets` });
      });
    }
    for (const [id, vlan] of Object.entries(net.vlans ?? {})) {
      if (!defined.has(vlan.link))
        ctx.addIssue({ code: "custom", path: ["vlans", id, "link"], message: `vlan link "${vlan.link}" is not a defined interface` });
    }
  });
export type NetworkV2 = z.infer<typeof NetworkV2Schema>;

/** Accepts `{network:{version:2,…}}` or the bare `{version:2,…}` (cloud-init reads both) and returns the wrapped form. */
export const NetworkConfigSchema = z
  .union([z.object({ network: NetworkV2Schema }).strict(), NetworkV2Schema])
  .transform((v): { network: NetworkV2 } => ("network" in v ? v : { network: v }));

export const CidataSpecSchema = z
  .object({
    userData: UserDataSchema,
    metaData: MetaDataSchema,
    networkConfig: NetworkConfigSchema.optional(),
  })
  .strict();
export type CidataSpec = z.infer<typeof CidataSpecSchema>;

// ---- NICs --------------------------------------------------------------------------------------------------

export const NicNetworkSchema = z.discriminatedUnion("type", [
  z.object({ type: z.literal("vlan"), vlanId: z.int().min(1).max(4094) }).strict(),
  z
    .object({
      type: z.literal("vxlan"),
      vni: z.int().min(1).max(16777215),
      /** VTEPs of the other DPUs carrying this VNI; omitted means local only. */
      remoteIps: z.array(ipAddress).max(256).optional(),
    })
    .strict(),
]);
export type NicNetwork = z.infer<typeof NicNetworkSchema>;

export const NicSpecSchema = z
  .object({
    mac: MacSchema,
    network: NicNetworkSchema,
    mtu: z.int().min(68).max(9216).default(1500),
    rules: RuleSetSchema,
  })
  .strict();
export type NicSpec = z.infer<typeof NicSpecSchema>;

/** NICs one `PUT /v1/nic-rules` may carry: a DPU's virtio-net functions (64 VFs by default) with room to spare. */
export const MAX_NIC_RULES_BATCH = 256;

/** `PUT /v1/nic-rules`: the rule sets of several NICs in one request (the BFF's rules pass, one request per DPU). */
export const NicRulesBatchSchema = z
  .object({
    items: z
      .array(z.object({ name: NameSchema, rules: RuleSetSchema }).strict())
      .min(1)
      .max(MAX_NIC_RULES_BATCH),
  })
  .strict()
  .superRefine((b, ctx) => {
    const seen = new Set<string>();
    for (const [i, it] of b.items.entries()) {
      if (seen.has(it.name))
        ctx.addIssue({ code: "custom", path: ["items", i, "name"], message: `NIC "${it.name}" is listed twice`, params: { agentCode: "duplicate_name" } });
      seen.add(it.name);
    }
  });
export type NicRulesBatch = z.infer<typeof NicRulesBatchSchema>;

/** One NIC's outcome in `PUT /v1/nic-rules`: the hash of the rules it now enforces, or the error `PUT /v1/nics/{name}/rules`
 *  would have answered (status 404 for a NIC the agent does not have). */
export type NicRulesOutcome = { name: string; rulesHash: string } | { name: string; status: number; error: { code: string; message: string; field?: string } };

// ---- overlay -----------------------------------------------------------------------------------------------

const ipv4 = z.string().refine((s) => ipaddr.IPv4.isValidFourPartDecimal(s), { message: "must be an IPv4 address like 10.1.0.5" });

/** An IPv4 network as a 32-bit number and prefix, or null when the text is not `a.b.c.d/len`. */
function ipv4Net(s: string): { net: number; len: number; host: number } | null {
  const m = /^(\d{1,3}(?:\.\d{1,3}){3})\/(\d{1,2})$/.exec(s);
  if (!m || !ipaddr.IPv4.isValidFourPartDecimal(m[1]!) || Number(m[2]) > 32) return null;
  const len = Number(m[2]);
  const addr = ipv4Value(m[1]!);
  const mask = len === 0 ? 0 : (0xffffffff << (32 - len)) >>> 0;
  return { net: (addr & mask) >>> 0, len, host: addr };
}
const ipv4Value = (ip: string): number => ipaddr.IPv4.parse(ip).octets.reduce((a, o) => a * 256 + o, 0);
const ipv4Text = (v: number): string => [v >>> 24, (v >>> 16) & 255, (v >>> 8) & 255, v & 255].join(".");
const ipv4Size = (len: number): number => 2 ** (32 - len);
const inNet = (v: number, n: { net: number; len: number }): boolean => v >= n.net && v < n.net + ipv4Size(n.len);

/** An IPv6 address as a 128-bit number. */
const ipv6Value = (ip: string): bigint => ipaddr.IPv6.parse(ip).parts.reduce((a, p) => (a << 16n) | BigInt(p), 0n);
const ipv6Text = (v: bigint): string => new ipaddr.IPv6(Array.from({ length: 8 }, (_, i) => Number((v >> BigInt(112 - 16 * i)) & 0xffffn))).toString();
/** IPv6 text as the agent keeps it: compressed, lower-case (RFC 5952), so one address has one spelling. */
const ipv6Canonical = (ip: string): string => ipaddr.IPv6.parse(ip).toString();
/** Plain IPv6 text (no zone id, no brackets). */
const isIpv6 = (s: string): boolean => /^[0-9A-Fa-f:.]+$/.test(s) && ipaddr.IPv6.isValid(s);

/** IPv6 ranges that are never a VPC address: the DPU must not answer for them nor route to them. */
const NOT_VPC_V6 = new Set(["unspecified", "loopback", "linkLocal", "multicast", "ipv4Mapped"]);
const notVpcV6 = (ip: string): boolean => NOT_VPC_V6.has(ipaddr.IPv6.parse(ip).range());

/**
 * An address of the VPC (OverlaySpec.neighbors[].ip, router gateways): IPv4 as a.b.c.d, or a unicast IPv6 address
 * (never ::, loopback, link-local, multicast or IPv4-mapped: link-local neighbors are the guests' own business).
 */
const vpcAddress = z
  .string()
  .refine((s) => ipaddr.IPv4.isValidFourPartDecimal(s) || isIpv6(s), { message: "must be an IPv4 address like 10.1.0.5 or an IPv6 address like fd00:1::5" })
  .refine((s) => !isIpv6(s) || !notVpcV6(s), {
    message: "must be a unicast IPv6 address (not ::, loopback, link-local fe80::/10, multicast ff00::/8 or IPv4-mapped)",
  });
/** The key two spellings of one address share: IPv4 text as is (as before IPv6), IPv6 canonical. */
const addressKey = (ip: string): string => (isIpv6(ip) ? ipv6Canonical(ip) : ip);

/** A router subnet of either family as numbers: the network, its prefix and the address as written (host bits). */
interface Net {
  family: 4 | 6;
  net: bigint;
  len: number;
  host: bigint;
}
function netOf(s: string): Net | null {
  const v4 = ipv4Net(s);
  if (v4) return { family: 4, net: BigInt(v4.net), len: v4.len, host: BigInt(v4.host) };
  const m = /^([0-9A-Fa-f:.]+)\/(\d{1,3})$/.exec(s);
  if (!m || !isIpv6(m[1]!) || Number(m[2]) > 128) return null;
  const len = Number(m[2]);
  const host = ipv6Value(m[1]!);
  const mask = ((1n << BigInt(len)) - 1n) << BigInt(128 - len);
  return { family: 6, net: host & mask, len, host };
}
const netSize = (n: Net): bigint => 1n << BigInt((n.family === 4 ? 32 : 128) - n.len);
const inNetOf = (v: bigint, family: 4 | 6, n: Net): boolean => n.family === family && v >= n.net && v < n.net + netSize(n);
const netText = (n: Net): string => `${n.family === 4 ? ipv4Text(Number(n.net)) : ipv6Text(n.net)}/${n.len}`;
/** An address of either family as its family and number, or null when it is neither. */
function addressOf(ip: string): { family: 4 | 6; v: bigint } | null {
  if (ipaddr.IPv4.isValidFourPartDecimal(ip)) return { family: 4, v: BigInt(ipv4Value(ip)) };
  return isIpv6(ip) ? { family: 6, v: ipv6Value(ip) } : null;
}

/**
 * The VPC's distributed router on this DPU (OverlaySpec.router): its MAC (the same on every DPU of the VNI) and the
 * VPC's subnets, each with the gateway address the DPU answers ARP / Neighbor Solicitation and ping for and routes
 * through. A dual-stack subnet is listed twice, once per family. IPv4: /30 or larger, the gateway not the network or
 * broadcast address. IPv6: /64 (the usual) to /120 (the routing flows match whole addresses, so the size costs
 * nothing), the gateway not the subnet-router anycast address (all host bits zero).
 */
const RouterSubnetSchema = z
  .object({
    cidr: z.string().refine((s) => netOf(s) !== null, { message: "must be an IPv4 network like 10.1.1.0/24 or an IPv6 network like fd00:1:2:3::/64" }),
    gateway: z.string().refine((s) => addressOf(s) !== null, { message: "must be an IPv4 address like 10.1.1.1 or an IPv6 address like fd00:1:2:3::1" }),
  })
  .strict()
  .superRefine((s, ctx) => {
    const n = netOf(s.cidr);
    if (!n) return; // reported by the field's own check
    if (n.host !== n.net) ctx.addIssue({ code: "custom", path: ["cidr"], message: `has host bits set; the network is ${netText(n)}` });
    else if (n.family === 4 && n.len > 30)
      ctx.addIssue({ code: "custom", path: ["cidr"], message: "must be /30 or larger (a routed subnet needs a gateway and hosts)" });
    else if (n.family === 6 && (n.len < 64 || n.len > 120)) ctx.addIssue({ code: "custom", path: ["cidr"], message: "must be an IPv6 network of /64 to /120" });
    else if (n.family === 6 && notVpcV6(ipv6Text(n.net)))
      ctx.addIssue({
        code: "custom",
        path: ["cidr"],
        message: "must be a unicast IPv6 network (not link-local fe80::/10, multicast ff00::/8, loopback, IPv4-mapped or ::)",
      });
    const g = addressOf(s.gateway);
    if (!g) return;
    if (g.family !== n.family) {
      ctx.addIssue({
        code: "custom",
        path: ["gateway"],
        message: `${s.gateway} is an IPv${g.family} address and ${s.cidr} an IPv${n.family} network; a gateway is of its subnet's family`,
        params: { agentCode: "gateway_outside_subnet" },
      });
      return;
    }
    if (!inNetOf(g.v, g.family, n))
      ctx.addIssue({ code: "custom", path: ["gateway"], message: `${s.gateway} is not inside ${s.cidr}`, params: { agentCode: "gateway_outside_subnet" } });
    else if (n.family === 4 && (g.v === n.net || g.v === n.net + netSize(n) - 1n))
      ctx.addIssue({
        code: "custom",
        path: ["gateway"],
        message: `${s.gateway} is the network or broadcast address of ${s.cidr}`,
        params: { agentCode: "gateway_outside_subnet" },
      });
    else if (n.family === 6 && g.v === n.net)
      ctx.addIssue({
        code: "custom",
        path: ["gateway"],
        message: `${s.gateway} is the subnet-router anycast address of ${s.cidr} (all host bits zero)`,
        params: { agentCode: "gateway_outside_subnet" },
      });
  })
  .transform((s) => (netOf(s.cidr)!.family === 4 ? s : { cidr: netText(netOf(s.cidr)!), gateway: ipv6Canonical(s.gateway) }));

/**
 * The provider network the router reaches through the DPU's uplink (RouterSchema.external): the router's MAC and
 * the provider's next hop there (its MAC given, the DPU does not ARP for it), the VLAN (absent = untagged), the
 * address every VPC address without a floating IP is SNATed to (optional; without it only floating IPs go out) and
 * the floating IPs (1:1 NAT to a VPC address). OverlaySpecSchema sorts the floating IPs by address (after its checks,
 * so their error paths index the list as sent).
 */
const ExternalSchema = z
  .object({
    vlanId: z.int().min(1).max(4094).optional(),
    mac: MacSchema,
    cidr: z.string().refine((s) => ipv4Net(s) !== null, { message: "must be an IPv4 network like 203.0.113.0/24" }),
    gateway: ipv4,
    gatewayMac: MacSchema,
    snatIp: ipv4.optional(),
    floatingIps: z.array(z.object({ ip: ipv4, fixedIp: ipv4 }).strict()).max(4096),
  })
  .strict()
  .superRefine((e, ctx) => {
    const n = ipv4Net(e.cidr);
    if (!n) return; // reported by the field's own check
    if (n.host !== n.net) {
      ctx.addIssue({ code: "custom", path: ["cidr"], message: `has host bits set; the network is ${ipv4Text(n.net)}/${n.len}` });
      return;
    }
    if (n.len > 30) {
      ctx.addIssue({ code: "custom", path: ["cidr"], message: "must be /30 or larger (the provider network holds a gateway and the router's addresses)" });
      return;
    }
    /** An address of the provider network the router uses: inside cidr, not its network or broadcast address. */
    const inside = (ip: string, path: (string | number)[]) => {
      if (!ipaddr.IPv4.isValidFourPartDecimal(ip)) return; // reported by the field's own check
      const v = ipv4Value(ip);
      const why = !inNet(v, n) ? "is not inside" : v === n.net || v === n.net + ipv4Size(n.len) - 1 ? "is the network or broadcast address of" : "";
      if (why) ctx.addIssue({ code: "custom", path, message: `${ip} ${why} ${e.cidr}`, params: { agentCode: "address_outside_provider_network" } });
    };
    inside(e.gateway, ["gateway"]);
    if (e.snatIp !== undefined) {
      inside(e.snatIp, ["snatIp"]);
      if (e.snatIp === e.gateway)
        ctx.addIssue({
          code: "custom",
          path: ["snatIp"],
          message: `${e.snatIp} is the provider gateway's address`,
          params: { agentCode: "external_ip_in_use" },
        });
    }
    const ips = new Map<string, number>();
    const fixed = new Map<string, number>();
    e.floatingIps.forEach((f, i) => {
      inside(f.ip, ["floatingIps", i, "ip"]);
      const clash =
        f.ip === e.gateway
          ? "the provider gateway's address"
          : f.ip === e.snatIp
            ? "the SNAT address (snatIp)"
            : ips.has(f.ip)
              ? `listed twice (also at floatingIps[${ips.get(f.ip)}])`
              : "";
      if (clash)
        ctx.addIssue({
          code: "custom",
          path: ["floatingIps", i, "ip"],
          message: `${f.ip} is ${clash}; a floating IP is one address's own`,
          params: { agentCode: clash.startsWith("listed") ? "duplicate_floating_ip" : "external_ip_in_use" },
        });
      if (fixed.has(f.fixedIp))
        ctx.addIssue({
          code: "custom",
          path: ["floatingIps", i, "fixedIp"],
          message: `${f.fixedIp} already has a floating IP (floatingIps[${fixed.get(f.fixedIp)}]); one address has at most one`,
          params: { agentCode: "duplicate_fixed_ip" },
        });
      ips.set(f.ip, i);
      fixed.set(f.fixedIp, i);
    });
  });
export type ExternalSpec = z.output<typeof ExternalSchema>;

const RouterSchema = z
  .object({
    mac: MacSchema,
    subnets: z.array(RouterSubnetSchema).min(1, "a router needs at least one subnet").max(1024),
    external: ExternalSchema.optional(),
  })
  .strict()
  .superRefine((r, ctx) => {
    // Per family: an IPv4 and an IPv6 subnet never overlap (a dual-stack subnet is listed once per family).
    const nets: (Net & { i: number })[] = [];
    r.subnets.forEach((s, i) => {
      const n = netOf(s.cidr);
      if (!n) return;
      const clash = nets.find((o) => inNetOf(n.net, n.family, o) || inNetOf(o.net, o.family, n));
      if (clash)
        ctx.addIssue({
          code: "custom",
          path: ["subnets", i, "cidr"],
          message: `${s.cidr} overlaps ${r.subnets[clash.i]!.cidr} (subnets[${clash.i}]); a router has one route per address`,
          params: { agentCode: "router_subnet_overlap" },
        });
      nets.push({ ...n, i });
    });
    const ext = r.external && netOf(r.external.cidr);
    if (!ext) return;
    const clash = nets.find((o) => inNetOf(ext.net, 4, o) || inNetOf(o.net, o.family, ext));
    if (clash)
      ctx.addIssue({
        code: "custom",
        path: ["external", "cidr"],
        message: `${r.external!.cidr} overlaps ${r.subnets[clash.i]!.cidr} (subnets[${clash.i}]); the provider network is outside the VPC`,
        params: { agentCode: "router_subnet_overlap" },
      });
    if (r.external!.mac === r.mac)
      ctx.addIssue({
        code: "custom",
        path: ["external", "mac"],
        message: `${r.mac} is also the router's VPC-side MAC (router.mac); the provider side has its own`,
        params: { agentCode: "router_mac_in_use" },
      });
  })
  .transform((r) => ({
    mac: r.mac,
    subnets: [...r.subnets].sort((a, b) => {
      const x = netOf(a.cidr)!;
      const y = netOf(b.cidr)!;
      return x.family - y.family || (x.net < y.net ? -1 : x.net > y.net ? 1 : 0);
    }),
    ...(r.external ? { external: r.external } : {}),
  }));
export type RouterSpec = z.output<typeof RouterSchema>;

/**
 * The overlay of one VNI on this DPU, as the BFF computes it: the VTEPs of the other DPUs with a port in the VNI,
 * the VPC's address table (IPAM ip -> MAC; IPv4 and IPv6) the DPU answers ARP and Neighbor Solicitations from, and
 * (optional) the VPC's distributed router. Normalized (sorted, MACs lower-case, IPv6 compressed), so the same sets in
 * another order are the same spec and a repeated PUT is a no-op; a spec without `router` normalizes (and hashes) as
 * before the router existed, and one without IPv6 as before IPv6.
 */
export const OverlaySpecSchema = z
  .object({
    remoteIps: z.array(ipAddress).max(1024),
    neighbors: z.array(z.object({ ip: vpcAddress, mac: MacSchema }).strict()).max(65536),
    router: RouterSchema.optional(),
  })
  .strict()
  .superRefine((o, ctx) => {
    const seen = new Map<string, number>();
    o.remoteIps.forEach((ip, i) => {
      if (!ipaddr.isValid(ip)) return; // reported by the field's own check
      const norm = ipaddr.parse(ip).toNormalizedString();
      const prior = seen.get(norm);
      if (prior !== undefined)
        ctx.addIssue({
          code: "custom",
          path: ["remoteIps", i],
          message: `${ip} is listed twice (also at remoteIps[${prior}])`,
          params: { agentCode: "duplicate_remote_ip" },
        });
      seen.set(norm, i);
    });
    const ips = new Map<string, number>();
    o.neighbors.forEach((n, i) => {
      const key = addressKey(n.ip);
      const prior = ips.get(key);
      if (prior !== undefined)
        ctx.addIssue({
          code: "custom",
          path: ["neighbors", i, "ip"],
          message: `${n.ip} is listed twice (also at neighbors[${prior}]); one address has one MAC`,
          params: { agentCode: "duplicate_neighbor" },
        });
      ips.set(key, i);
    });
    if (!o.router) return;
    const mac = o.neighbors.findIndex((n) => n.mac === o.router!.mac);
    if (mac >= 0)
      ctx.addIssue({
        code: "custom",
        path: ["router", "mac"],
        message: `${o.router.mac} is also the MAC of neighbors[${mac}]; the router's MAC must be its own`,
        params: { agentCode: "router_mac_in_use" },
      });
    const ext = o.router.external;
    if (ext) {
      const emac = o.neighbors.findIndex((n) => n.mac === ext.mac);
      if (emac >= 0)
        ctx.addIssue({
          code: "custom",
          path: ["router", "external", "mac"],
          message: `${ext.mac} is also the MAC of neighbors[${emac}]; the router's MAC must be its own`,
          params: { agentCode: "router_mac_in_use" },
        });
      const subnets = o.router.subnets.flatMap((s) => ipv4Net(s.cidr) ?? []);
      ext.floatingIps.forEach((f, i) => {
        const path = ["router", "external", "floatingIps", i, "fixedIp"];
        if (!ipaddr.IPv4.isValidFourPartDecimal(f.fixedIp)) return;
        if (!ips.has(f.fixedIp))
          ctx.addIssue({ code: "custom", path, message: `${f.fixedIp} is not a neighbor's address (neighbors)`, params: { agentCode: "fixed_ip_unknown" } });
        else if (!subnets.some((n) => inNet(ipv4Value(f.fixedIp), n)))
          ctx.addIssue({ code: "custom", path, message: `${f.fixedIp} is not inside any of the router's subnets`, params: { agentCode: "fixed_ip_unknown" } });
      });
    }
    o.router.subnets.forEach((s, i) => {
      const at = ips.get(addressKey(s.gateway));
      if (at !== undefined)
        ctx.addIssue({
          code: "custom",
          path: ["router", "subnets", i, "gateway"],
          message: `${s.gateway} is also a neighbor's address (neighbors[${at}]); a gateway address is the router's`,
          params: { agentCode: "gateway_in_use" },
        });
    });
  })
  .transform((o) => ({
    remoteIps: [...new Set(o.remoteIps.map((ip) => ipaddr.parse(ip).toString()))].sort(),
    neighbors: sortedNeighbors(o.neighbors),
    ...(o.router ? { router: o.router.external ? { ...o.router, external: sortedExternal(o.router.external) } : o.router } : {}),
  }));

/**
 * IPv4 entries first, in text order (as before IPv6, so an IPv4-only spec hashes as it did), then IPv6 ones by value,
 * in canonical text (the BFF's spelling of an address never changes the spec).
 */
function sortedNeighbors(neighbors: readonly { ip: string; mac: string }[]): { ip: string; mac: string }[] {
  const v4 = neighbors.filter((n) => !isIpv6(n.ip)).sort((a, b) => (a.ip < b.ip ? -1 : a.ip > b.ip ? 1 : 0));
  const v6 = neighbors
    .filter((n) => isIpv6(n.ip))
    .map((n) => ({ ip: ipv6Canonical(n.ip), mac: n.mac, v: ipv6Value(n.ip) }))
    .sort((a, b) => (a.v < b.v ? -1 : a.v > b.v ? 1 : 0))
    .map(({ ip, mac }) => ({ ip, mac }));
  return [...v4, ...v6];
}

function sortedExternal(e: ExternalSpec): ExternalSpec {
  return { ...e, floatingIps: [...e.floatingIps].sort((a, b) => ipv4Value(a.ip) - ipv4Value(b.ip)) };
}
export type OverlaySpec = z.output<typeof OverlaySpecSchema>;
