// The overlay spec the BFF builds for a dual-stack VPC (builtOverlays, before the agent's schema): the VPC's neighbors
// list each port's IPv6 address with its MAC beside the IPv4 one, and the router lists a dual-stack subnet twice —
// its IPv4 cidr/gateway and its IPv6 /64 and gateway (the IPv6 contract with the DPU agent, docs/design.md). An
// IPv4-only VPC's spec has no IPv6 entry and hashes as before; what the DPU gets (desiredOverlays) never loses the
// IPv4 part to an IPv6 part its agent would refuse. The instance's cloud-init seed (instanceSeed) gives its NIC on a
// dual-stack subnet the IPv6 address/64 and the IPv6 default route. Servers here are rows only ("running" on hosts whose DPUs have no
// agent), retired after the file so other files' passes do not keep trying them.
import { eq } from "drizzle-orm";
import { afterAll, describe, expect, it } from "vitest";
import { CidataSpecSchema, OverlaySpecSchema } from "@/agent/schemas";
import * as s from "@/db/schema";
import { uniq } from "@/test/db";
import { callerAs, insertHost, insertInstance, insertPool, useFixtures } from "@/test/fixtures";
import { instanceSeed } from "./instances";
import { builtOverlays, desiredOverlays, overlayHash, routerMac } from "./overlay";

const fx = useFixtures({ vpcs: 100, subnets: 100, securityGroups: 200, addresses: 1000 });
const t = () => fx.tenant.slug;
const member = () => callerAs(fx, "tenantMember");

const madeUp: string[] = [];
afterAll(async () => {
  for (const id of madeUp) await fx.db.update(s.instances).set({ state: "deleted" }).where(eq(s.instances.id, id));
});

/** A running instance's NIC on `subnetId`, on a host with its own DPU (underlay address given). */
async function server(subnetId: string, poolId: string, underlay: string) {
  const host = await insertHost(fx.db, { poolId });
  const dpu = await insertHost(fx.db, { kind: "dpu", parentNodeId: host.id, underlayIp: underlay });
  const port = await member().ports.create({ tenant: t(), subnetId, name: uniq("nic") });
  await fx.db.update(s.ports).set({ nodeId: host.id }).where(eq(s.ports.id, port.id));
  const inst = await insertInstance(fx.db, { tenantId: fx.tenant.id, poolId, portId: port.id, nodeId: host.id, state: "running" });
  madeUp.push(inst.id);
  return { port, dpu, inst };
}

const vniOf = async (vpcId: string) => (await fx.db.select().from(s.vpcs).where(eq(s.vpcs.id, vpcId)))[0]!.vni;
const byIp = <T extends { ip: string }>(l: T[]) => [...l].sort((a, b) => (a.ip < b.ip ? -1 : 1));
const byCidr = <T extends { cidr: string }>(l: T[]) => [...l].sort((a, b) => (a.cidr < b.cidr ? -1 : 1));

describe("overlay specs of a dual-stack VPC", () => {
  it("neighbors carry both addresses of each port; the router lists each dual-stack subnet once per family", async () => {
    const admin = callerAs(fx, "tenantAdmin");
    const vpcId = (await admin.vpcs.create({ tenant: t(), name: uniq("ds"), cidr: "10.0.0.0/16", ipv6Cidr: "fd00:42::/48" })).id;
    const web = await member().subnets.create({ tenant: t(), vpcId, name: "web", cidr: "10.0.1.0/24", ipv6Cidr: "fd00:42:0:1::/64" });
    const dbSub = await member().subnets.create({
      tenant: t(),
      vpcId,
      name: "db",
      cidr: "10.0.2.0/24",
      ipv6Cidr: "fd00:42:0:2::/64",
      ipv6Gateway: "fd00:42:0:2::fe",
    });
    const legacy = await member().subnets.create({ tenant: t(), vpcId, name: "legacy", cidr: "10.0.3.0/24" });
    const pool = await insertPool(fx.db);
    const a = await server(web.id, pool.id, "192.0.2.61");
    const b = await server(dbSub.id, pool.id, "192.0.2.62");
    const c = await server(legacy.id, pool.id, "192.0.2.63");
    const vni = await vniOf(vpcId);

    const built = (await builtOverlays()).filter((o) => o.vni === vni);
    expect(built.map((o) => o.dpu.dpuId).sort()).toEqual([a.dpu.id, b.dpu.id, c.dpu.id].sort());
    const mac = (p: { mac: string }) => p.mac.toLowerCase();
    for (const o of built) {
      expect(byIp(o.spec.neighbors.map((n) => ({ ip: n.ip, mac: n.mac.toLowerCase() })))).toEqual(
        byIp([
          { ip: a.port.address!, mac: mac(a.port) },
          { ip: a.port.ipv6Address!, mac: mac(a.port) },
          { ip: b.port.address!, mac: mac(b.port) },
          { ip: b.port.ipv6Address!, mac: mac(b.port) },
          { ip: c.port.address!, mac: mac(c.port) },
        ]),
      );
      expect(o.spec.router?.mac).toBe(routerMac(vni));
      expect(byCidr(o.spec.router!.subnets)).toEqual(
        byCidr([
          { cidr: "10.0.1.0/24", gateway: "10.0.1.1" },
          { cidr: "fd00:42:0:1::/64", gateway: "fd00:42:0:1::1" },
          { cidr: "10.0.2.0/24", gateway: "10.0.2.1" },
          { cidr: "fd00:42:0:2::/64", gateway: "fd00:42:0:2::fe" },
          { cidr: "10.0.3.0/24", gateway: "10.0.3.1" },
        ]),
      );
    }
    expect(a.port.ipv6Address).toBe("fd00:42:0:1::2");
    expect(c.port.ipv6Address).toBeNull();

    // What the DPUs get keeps every IPv4 entry whatever the agent's schema says of the IPv6 ones, and is exactly the
    // built spec when the agent takes it.
    const desired = (await desiredOverlays()).filter((d) => d.vni === vni);
    for (const d of desired) {
      const ips = d.spec.neighbors.map((n) => n.ip);
      for (const p of [a, b, c]) expect(ips).toContain(p.port.address);
      expect(d.spec.router!.subnets.map((r) => r.cidr)).toEqual(expect.arrayContaining(["10.0.1.0/24", "10.0.2.0/24", "10.0.3.0/24"]));
      const accepted = OverlaySpecSchema.safeParse(built.find((o) => o.dpu.dpuId === d.dpu.dpuId)!.spec);
      if (accepted.success) expect(d.spec).toEqual(accepted.data);
      expect(d.hash).toBe(overlayHash(d.spec));
    }
  });

  it("an IPv4-only VPC's spec has no IPv6 entry and is what the agent takes, hashed as before", async () => {
    const admin = callerAs(fx, "tenantAdmin");
    const vpcId = (await admin.vpcs.create({ tenant: t(), name: uniq("v4"), cidr: "10.0.0.0/16" })).id;
    const sub = await member().subnets.create({ tenant: t(), vpcId, name: "web", cidr: "10.0.1.0/24" });
    const pool = await insertPool(fx.db);
    await server(sub.id, pool.id, "192.0.2.71");
    const vni = await vniOf(vpcId);
    const [built] = (await builtOverlays()).filter((o) => o.vni === vni);
    expect(built!.spec.neighbors.some((n) => n.ip.includes(":"))).toBe(false);
    expect(built!.spec.router!.subnets).toEqual([{ cidr: "10.0.1.0/24", gateway: "10.0.1.1" }]);
    const [desired] = (await desiredOverlays()).filter((d) => d.vni === vni);
    const parsed = OverlaySpecSchema.parse(built!.spec);
    expect(desired!.spec).toEqual(parsed);
    expect(desired!.hash).toBe(overlayHash(parsed));
  });

  it("the instance's seed gives its dual-stack NIC both addresses and the IPv6 default route via the subnet's IPv6 gateway", async () => {
    const admin = callerAs(fx, "tenantAdmin");
    const vpcId = (await admin.vpcs.create({ tenant: t(), name: uniq("seed"), cidr: "10.0.0.0/16", ipv6Cidr: "fd00:43::/48" })).id;
    const sub = await member().subnets.create({
      tenant: t(),
      vpcId,
      name: "web",
      cidr: "10.0.1.0/24",
      ipv6Cidr: "fd00:43:0:1::/64",
      ipv6Gateway: "fd00:43:0:1::fe",
    });
    const { port, inst } = await server(sub.id, (await insertPool(fx.db)).id, "192.0.2.81");
    // As the agent takes it (PUT /v1/cidata parses the same schema).
    const eth0 = CidataSpecSchema.parse(await instanceSeed(inst.id)).networkConfig?.network.ethernets?.eth0;
    expect(eth0?.addresses).toEqual([`${port.address}/24`, `${port.ipv6Address}/64`]);
    expect(eth0?.gateway4).toBe("10.0.1.1");
    expect(eth0?.gateway6).toBe("fd00:43:0:1::fe");
    expect(eth0?.["accept-ra"]).toBe(false);
  });
});
