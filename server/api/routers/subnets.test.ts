// Subnets router against a real Postgres: CIDR inside the VPC, no overlap with siblings (also under a race, where the
// exclusion constraint decides), gateway and reserved-range field errors with nothing changed, address counts,
// delete refused while ports use it, cross-tenant NOT_FOUND.
import { TRPCError } from "@trpc/server";
import { eq } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";
import * as s from "@/db/schema";
import { uniq } from "@/test/db";
import { callerAs, failure, fieldOf, useFixtures } from "@/test/fixtures";

const fx = useFixtures({ vpcs: 100, subnets: 200, securityGroups: 200, addresses: 1000 });
let vpcId: string;
beforeAll(async () => {
  vpcId = (await callerAs(fx, "tenantAdmin").vpcs.create({ tenant: fx.tenant.slug, name: "main", cidr: "10.0.0.0/16" })).id;
});

const count = async () => (await fx.db.select().from(s.subnets).where(eq(s.subnets.vpcId, vpcId))).length;

describe("subnets", () => {
  it("creates a subnet with the first usable address as gateway; counts free and used addresses", async () => {
    const m = callerAs(fx, "tenantMember");
    const sub = await m.subnets.create({
      tenant: fx.tenant.slug,
      vpcId,
      name: "web",
      cidr: "10.0.1.0/24",
      dnsServers: ["10.0.1.2"],
      reservedRanges: [{ start: "10.0.1.200", end: "10.0.1.209" }],
      vlanId: 101,
    });
    expect(sub.gateway).toBe("10.0.1.1");
    const got = await m.subnets.get({ tenant: fx.tenant.slug, id: sub.id });
    expect(got).toMatchObject({ capacity: 243, used: 0, free: 243, vlanId: 101, dnsServers: ["10.0.1.2"], deleteBlockedReason: null });
    await m.ports.create({ tenant: fx.tenant.slug, subnetId: sub.id, name: uniq("p") });
    expect(await m.subnets.get({ tenant: fx.tenant.slug, id: sub.id })).toMatchObject({ used: 1, free: 242, portCount: 1 });
  });

  it.each([
    [{ cidr: "10.1.0.0/24" }, "cidr", "not inside the VPC"],
    [{ cidr: "10.0.1.128/25" }, "cidr", "overlaps subnet web (10.0.1.0/24)"],
    [{ cidr: "10.0.0.0/16" }, "cidr", "overlaps subnet web"],
    [{ cidr: "10.0.9.0/24", gateway: "10.0.8.1" }, "gateway", "not inside the subnet"],
    [{ cidr: "10.0.9.0/24", gateway: "10.0.9.255" }, "gateway", "broadcast address"],
    [{ cidr: "10.0.9.0/24", reservedRanges: [{ start: "10.0.9.10", end: "10.0.10.5" }] }, "reservedRanges.0", "not a usable address"],
    [
      {
        cidr: "10.0.9.0/24",
        reservedRanges: [
          { start: "10.0.9.9", end: "10.0.9.9" },
          { start: "10.0.9.30", end: "10.0.9.20" },
        ],
      },
      "reservedRanges.1",
      "ends before it starts",
    ],
    [{ cidr: "10.0.9.0/24", reservedRanges: [{ start: "10.0.9.1", end: "10.0.9.5" }] }, "reservedRanges", "gateway 10.0.9.1 is inside a reserved range"],
    [{ cidr: "10.0.9.0/24", vlanId: 5000 }, "vlanId", "1–4094"],
    [{ cidr: "10.0.9.0/24", dnsServers: ["dns.example"] }, "dnsServers.0", "Not an IP address"],
  ])("%j → field error on %s, nothing created", async (over, field, text) => {
    const before = await count();
    const err = await failure(callerAs(fx, "tenantMember").subnets.create({ tenant: fx.tenant.slug, vpcId, name: uniq("bad"), ...over }));
    expect(err.message).toContain(text);
    expect(fieldOf(err)).toBe(field);
    expect(await count()).toBe(before);
  });

  it("concurrent overlapping creates: exactly one wins, the other is a field error on cidr", async () => {
    const m = callerAs(fx, "tenantMember");
    const results = await Promise.allSettled(
      ["10.0.20.0/24", "10.0.20.0/23", "10.0.20.128/25"].map((cidr) => m.subnets.create({ tenant: fx.tenant.slug, vpcId, name: uniq("race"), cidr })),
    );
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
    for (const r of results)
      if (r.status === "rejected") {
        expect(r.reason).toBeInstanceOf(TRPCError);
        expect(fieldOf(r.reason)).toBe("cidr");
        expect(r.reason.message).toContain("overlaps");
      }
  });

  it("delete is refused while ports use the subnet", async () => {
    const m = callerAs(fx, "tenantMember");
    const sub = await m.subnets.create({ tenant: fx.tenant.slug, vpcId, name: uniq("busy"), cidr: "10.0.30.0/24" });
    const port = await m.ports.create({ tenant: fx.tenant.slug, subnetId: sub.id, name: uniq("p") });
    const err = await failure(m.subnets.delete({ tenant: fx.tenant.slug, id: sub.id }));
    expect(err.code).toBe("PRECONDITION_FAILED");
    expect(err.message).toContain("used by 1 port");
    await m.ports.delete({ tenant: fx.tenant.slug, id: port.id });
    await m.subnets.delete({ tenant: fx.tenant.slug, id: sub.id });
  });

  it("a reserved range may not cover an address in use", async () => {
    const m = callerAs(fx, "tenantMember");
    const sub = await m.subnets.create({ tenant: fx.tenant.slug, vpcId, name: uniq("res"), cidr: "10.0.31.0/24" });
    await m.ports.create({ tenant: fx.tenant.slug, subnetId: sub.id, name: uniq("p"), address: "10.0.31.50" });
    const err = await failure(m.subnets.update({ tenant: fx.tenant.slug, id: sub.id, reservedRanges: [{ start: "10.0.31.40", end: "10.0.31.60" }] }));
    expect(err.message).toContain("10.0.31.50 is in use");
    await m.subnets.update({ tenant: fx.tenant.slug, id: sub.id, reservedRanges: [{ start: "10.0.31.100", end: "10.0.31.110" }] });
  });

  it("another tenant's subnet is NOT_FOUND", async () => {
    const sub = await callerAs(fx, "tenantMember").subnets.create({ tenant: fx.tenant.slug, vpcId, name: uniq("hidden"), cidr: "10.0.40.0/24" });
    const o = callerAs(fx, "otherTenantMember");
    expect((await failure(o.subnets.get({ tenant: fx.otherTenant.slug, id: sub.id }))).code).toBe("NOT_FOUND");
    expect((await failure(o.subnets.delete({ tenant: fx.otherTenant.slug, id: sub.id }))).code).toBe("NOT_FOUND");
    expect((await failure(o.ports.create({ tenant: fx.otherTenant.slug, subnetId: sub.id, name: "x" }))).code).toBe("NOT_FOUND");
    expect((await o.subnets.list({ tenant: fx.otherTenant.slug })).items).toEqual([]);
  });
});
