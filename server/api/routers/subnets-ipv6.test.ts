// Dual-stack subnets against a real Postgres: an IPv6 /64 of the VPC's IPv6 range with a ::1 gateway by default; every
// refusal is a field error with nothing created (VPC without IPv6, outside, not a /64, overlapping a sibling — also
// under a race, where the exclusion constraint decides —, a bad gateway); ports get an IPv6 address beside the IPv4
// one (a fixed one validated like IPv4) and give both back when deleted; adding IPv6 to a subnet gives its ports
// addresses in that update, removing or changing it is refused while they hold them; the default group's ipv6 rule
// lets the group's members' IPv6 addresses in.
import { TRPCError } from "@trpc/server";
import { eq, sql } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";
import * as s from "@/db/schema";
import { cidrContainsAddress, parseAddress, parseCidr } from "@/domain/cidr";
import { compileRules, loadCompileInput } from "@/server/domain/rule-compiler";
import { uniq } from "@/test/db";
import { callerAs, failure, fieldOf, useFixtures } from "@/test/fixtures";

const fx = useFixtures({ vpcs: 100, subnets: 200, securityGroups: 200, addresses: 1000 });
const t = () => fx.tenant.slug;
const member = () => callerAs(fx, "tenantMember");
let vpcId: string;
let v4OnlyVpcId: string;
beforeAll(async () => {
  const admin = callerAs(fx, "tenantAdmin");
  vpcId = (await admin.vpcs.create({ tenant: t(), name: uniq("ds"), cidr: "10.0.0.0/16", ipv6Cidr: "fd00:aa::/48" })).id;
  v4OnlyVpcId = (await admin.vpcs.create({ tenant: t(), name: uniq("v4"), cidr: "10.1.0.0/16" })).id;
});

const subnetCount = async (vpc: string) => (await fx.db.select().from(s.subnets).where(eq(s.subnets.vpcId, vpc))).length;

/** A port's addresses by family, read from IPAM's table. */
async function addressesOf(portId: string): Promise<{ v4: string[]; v6: string[] }> {
  const rows = await fx.db
    .select({ a: sql<string>`host(${s.ipAllocations.address})`, f: sql<number>`family(${s.ipAllocations.address})` })
    .from(s.ipAllocations)
    .where(eq(s.ipAllocations.portId, portId));
  return { v4: rows.filter((r) => r.f === 4).map((r) => r.a), v6: rows.filter((r) => r.f === 6).map((r) => r.a) };
}

describe("dual-stack subnets", () => {
  it("creates one with the /64's ::1 as IPv6 gateway, shown by get and list", async () => {
    const sub = await member().subnets.create({ tenant: t(), vpcId, name: "web", cidr: "10.0.1.0/24", ipv6Cidr: "fd00:aa:0:1::/64" });
    expect(sub.ipv6Cidr).toBe("fd00:aa:0:1::/64");
    const got = await member().subnets.get({ tenant: t(), id: sub.id });
    expect(got).toMatchObject({ cidr: "10.0.1.0/24", ipv6Cidr: "fd00:aa:0:1::/64", ipv6Gateway: "fd00:aa:0:1::1", capacity: 253 });
    const page = await member().subnets.list({ tenant: t(), vpcId });
    expect(page.items.find((r) => r.id === sub.id)).toMatchObject({ ipv6Cidr: "fd00:aa:0:1::/64", ipv6Gateway: "fd00:aa:0:1::1" });
    // A chosen gateway is kept as given.
    const other = await member().subnets.create({
      tenant: t(),
      vpcId,
      name: uniq("gw"),
      cidr: "10.0.2.0/24",
      ipv6Cidr: "fd00:aa:0:2::/64",
      ipv6Gateway: "fd00:aa:0:2::fe",
    });
    expect((await member().subnets.get({ tenant: t(), id: other.id })).ipv6Gateway).toBe("fd00:aa:0:2::fe");
  });

  it.each([
    [{ ipv6Cidr: "fd00:bb:0:1::/64" }, "ipv6Cidr", "not inside the VPC's IPv6 range fd00:aa::/48"],
    [{ ipv6Cidr: "fd00:aa:0:900::/56" }, "ipv6Cidr", "must be a /64 (got /56)"],
    [{ ipv6Cidr: "fd00:aa:0:9::/80" }, "ipv6Cidr", "must be a /64 (got /80)"],
    [{ ipv6Cidr: "10.0.9.0/24" }, "ipv6Cidr", "must be an IPv6 /64 (e.g. fd00:aa::/64)"],
    [{ ipv6Cidr: "fd00:aa:0:1::/64" }, "ipv6Cidr", "overlaps subnet web (fd00:aa:0:1::/64)"],
    [{ ipv6Cidr: "fd00:aa:0:9::/64", ipv6Gateway: "fd00:aa:0:8::1" }, "ipv6Gateway", "not inside the subnet fd00:aa:0:9::/64"],
    [{ ipv6Cidr: "fd00:aa:0:9::/64", ipv6Gateway: "fd00:aa:0:9::" }, "ipv6Gateway", "subnet-router anycast address"],
    [{ ipv6Cidr: "fd00:aa:0:9::/64", ipv6Gateway: "10.0.9.1" }, "ipv6Gateway", "not inside the subnet"],
    [{ ipv6Gateway: "fd00:aa:0:9::1" }, "ipv6Gateway", "needs an IPv6 range"],
    [{ ipv6Cidr: "fd00:aa:0:9::1/64" }, "ipv6Cidr", "host bits"],
  ])("%j → field error on %s, nothing created", async (over, field, text) => {
    const before = await subnetCount(vpcId);
    const err = await failure(member().subnets.create({ tenant: t(), vpcId, name: uniq("bad"), cidr: "10.0.9.0/24", ...over }));
    expect(err.message).toContain(text);
    expect(fieldOf(err)).toBe(field);
    expect(await subnetCount(vpcId)).toBe(before);
  });

  it("a VPC without an IPv6 range gives none: field error on ipv6Cidr, nothing created", async () => {
    const err = await failure(
      member().subnets.create({ tenant: t(), vpcId: v4OnlyVpcId, name: uniq("bad"), cidr: "10.1.1.0/24", ipv6Cidr: "fd00:aa:0:7::/64" }),
    );
    expect(err.code).toBe("BAD_REQUEST");
    expect(fieldOf(err)).toBe("ipv6Cidr");
    expect(err.message).toContain("This VPC has no IPv6 range");
    expect(await subnetCount(v4OnlyVpcId)).toBe(0);
  });

  it("concurrent creates with one IPv6 range: exactly one wins, the others are field errors on ipv6Cidr", async () => {
    const results = await Promise.allSettled(
      ["10.0.30.0/24", "10.0.31.0/24", "10.0.32.0/24"].map((cidr) =>
        member().subnets.create({ tenant: t(), vpcId, name: uniq("race"), cidr, ipv6Cidr: "fd00:aa:0:30::/64" }),
      ),
    );
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
    for (const r of results)
      if (r.status === "rejected") {
        expect(r.reason).toBeInstanceOf(TRPCError);
        expect(fieldOf(r.reason)).toBe("ipv6Cidr");
        expect(r.reason.message).toContain("overlaps");
      }
  });

  it("ports get an IPv6 address beside the IPv4 one, a fixed one is validated like IPv4, a delete gives both back", async () => {
    const sub = await member().subnets.create({ tenant: t(), vpcId, name: uniq("ports"), cidr: "10.0.40.0/24", ipv6Cidr: "fd00:aa:0:40::/64" });
    const p = await member().ports.create({ tenant: t(), subnetId: sub.id, name: uniq("p") });
    expect(p.address).toBe("10.0.40.2");
    expect(p.ipv6Address).toBe("fd00:aa:0:40::2");
    expect(await addressesOf(p.id)).toEqual({ v4: ["10.0.40.2"], v6: ["fd00:aa:0:40::2"] });
    const listed = (await member().ports.list({ tenant: t(), subnetId: sub.id })).items.find((r) => r.id === p.id);
    expect(listed).toMatchObject({ address: "10.0.40.2", ipv6Address: "fd00:aa:0:40::2" });

    const fixed = await member().ports.create({ tenant: t(), subnetId: sub.id, name: uniq("p"), ipv6Address: "fd00:aa:0:40::beef" });
    expect(fixed.ipv6Address).toBe("fd00:aa:0:40::beef");
    for (const [ipv6Address, text, code] of [
      ["fd00:aa:0:41::5", "is not in subnet", "BAD_REQUEST"],
      ["fd00:aa:0:40::1", "is the gateway of subnet", "BAD_REQUEST"],
      ["fd00:aa:0:40::", "network address", "BAD_REQUEST"],
      ["fd00:aa:0:40::beef", "already in use", "CONFLICT"],
      ["not-an-address", "is not an IP address", "BAD_REQUEST"],
    ] as const) {
      const name = uniq("bad");
      const err = await failure(member().ports.create({ tenant: t(), subnetId: sub.id, name, ipv6Address }));
      expect(err.code, ipv6Address).toBe(code);
      expect(fieldOf(err)).toBe("ipv6Address");
      expect(err.message).toContain(text);
      // Nothing of the refused port is left: no port, no IPv4 address taken for it.
      expect(await fx.db.select().from(s.ports).where(eq(s.ports.name, name))).toEqual([]);
    }
    expect((await member().subnets.get({ tenant: t(), id: sub.id })).used).toBe(2);

    await member().ports.delete({ tenant: t(), id: p.id });
    expect(await addressesOf(p.id)).toEqual({ v4: [], v6: [] });
    const again = await member().ports.create({ tenant: t(), subnetId: sub.id, name: uniq("p") });
    expect([again.address, again.ipv6Address]).toEqual(["10.0.40.2", "fd00:aa:0:40::2"]);
  });

  it("a fixed IPv6 address on an IPv4-only subnet is a field error", async () => {
    const sub = await member().subnets.create({ tenant: t(), vpcId, name: uniq("v4"), cidr: "10.0.45.0/24" });
    const err = await failure(member().ports.create({ tenant: t(), subnetId: sub.id, name: uniq("p"), ipv6Address: "fd00:aa:0:45::5" }));
    expect(fieldOf(err)).toBe("ipv6Address");
    expect(err.message).toContain("has no IPv6 range");
    const p = await member().ports.create({ tenant: t(), subnetId: sub.id, name: uniq("p") });
    expect(p.ipv6Address).toBeNull();
  });

  it("adding IPv6 to a subnet gives its ports addresses at once; removing or changing it is refused while they hold them", async () => {
    const sub = await member().subnets.create({ tenant: t(), vpcId, name: uniq("grow"), cidr: "10.0.50.0/24" });
    const ports = [];
    for (let i = 0; i < 3; i++) ports.push(await member().ports.create({ tenant: t(), subnetId: sub.id, name: uniq("p") }));

    // Refusals change nothing.
    const outside = await failure(member().subnets.update({ tenant: t(), id: sub.id, ipv6Cidr: "fd00:cc::/64" }));
    expect(fieldOf(outside)).toBe("ipv6Cidr");
    expect((await member().subnets.get({ tenant: t(), id: sub.id })).ipv6Cidr).toBeNull();
    for (const p of ports) expect((await addressesOf(p.id)).v6).toEqual([]);

    const up = await member().subnets.update({ tenant: t(), id: sub.id, ipv6Cidr: "fd00:aa:0:50::/64" });
    expect(up.ipv6Cidr).toBe("fd00:aa:0:50::/64");
    const got = await member().subnets.get({ tenant: t(), id: sub.id });
    expect(got.ipv6Gateway).toBe("fd00:aa:0:50::1");
    const v6 = (await Promise.all(ports.map((p) => addressesOf(p.id)))).map((a) => a.v6);
    expect(v6.every((a) => a.length === 1 && a[0]!.startsWith("fd00:aa:0:50::"))).toBe(true);
    expect(new Set(v6.flat()).size).toBe(3);

    for (const [change, what] of [
      [{ ipv6Cidr: null }, "remove its IPv6 range"],
      [{ ipv6Cidr: "fd00:aa:0:51::/64" }, "change its IPv6 range"],
    ] as const) {
      const err = await failure(member().subnets.update({ tenant: t(), id: sub.id, ...change }));
      expect(err.code).toBe("CONFLICT");
      expect(fieldOf(err)).toBe("ipv6Cidr");
      expect(err.message).toContain(`has 3 ports holding IPv6 addresses in fd00:aa:0:50::/64; delete them before you ${what}`);
      expect((await member().subnets.get({ tenant: t(), id: sub.id })).ipv6Cidr).toBe("fd00:aa:0:50::/64");
    }
    // The gateway can move, but not onto a port's address.
    const taken = v6[0]![0]!;
    const onPort = await failure(member().subnets.update({ tenant: t(), id: sub.id, ipv6Gateway: taken }));
    expect(onPort.code).toBe("CONFLICT");
    expect(fieldOf(onPort)).toBe("ipv6Gateway");
    await member().subnets.update({ tenant: t(), id: sub.id, ipv6Gateway: "fd00:aa:0:50::ffff" });
    expect((await member().subnets.get({ tenant: t(), id: sub.id })).ipv6Gateway).toBe("fd00:aa:0:50::ffff");

    // Without ports the range can go.
    for (const p of ports) await member().ports.delete({ tenant: t(), id: p.id });
    await member().subnets.update({ tenant: t(), id: sub.id, ipv6Cidr: null });
    expect(await member().subnets.get({ tenant: t(), id: sub.id })).toMatchObject({ ipv6Cidr: null, ipv6Gateway: null });
  });

  it("the default group's ipv6 ingress rule lets each member's IPv6 address in (remote-group members feed ipv6 rules)", async () => {
    const sub = await member().subnets.create({ tenant: t(), vpcId, name: uniq("rules"), cidr: "10.0.60.0/24", ipv6Cidr: "fd00:aa:0:60::/64" });
    const a = await member().ports.create({ tenant: t(), subnetId: sub.id, name: uniq("a") });
    const b = await member().ports.create({ tenant: t(), subnetId: sub.id, name: uniq("b") });
    const { ruleSet } = compileRules(await loadCompileInput(fx.db, a.id));
    const v6In = ruleSet.ingress.filter((r) => r.ethertype === "ipv6").map((r) => r.cidr);
    const v4In = ruleSet.ingress.filter((r) => r.ethertype === "ipv4").map((r) => r.cidr);
    // The compiler merges neighbouring members' addresses into wider CIDRs: ask whether one covers the address.
    const covers = (cidrs: string[], address: string) => {
      const a = parseAddress(address)!;
      return cidrs.some((c) => {
        const p = parseCidr(c);
        return p.ok && cidrContainsAddress(p.cidr, a.family, a.value);
      });
    };
    expect(covers(v6In, b.ipv6Address!)).toBe(true);
    expect(covers(v6In, a.ipv6Address!)).toBe(true);
    expect(covers(v4In, b.address!)).toBe(true);
    // Nothing else of the /64 is let in: only members' addresses.
    expect(covers(v6In, "fd00:aa:0:60::ffff")).toBe(false);
    // No address crosses families.
    expect(v4In.some((c) => c.includes(":"))).toBe(false);
    expect(v6In.some((c) => c.includes("."))).toBe(false);
  });
});
