// VPCs router against a real Postgres: create with a unique VNI and a default group, CIDR rules (private ranges unless
// an operator allowed public ones), concurrent creates get distinct VNIs, delete refusals with reasons, cross-tenant
// NOT_FOUND, quotas, audit.
import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import * as s from "@/db/schema";
import { uniq } from "@/test/db";
import { callerAs, failure, fieldOf, makeFixtures, useFixtures } from "@/test/fixtures";

const fx = useFixtures({ vpcs: 100, securityGroups: 200 });

describe("vpcs", () => {
  it("creates a VPC with a VNI and a default group (all egress, ingress from itself), audited", async () => {
    const member = callerAs(fx, "tenantMember");
    const vpc = await member.vpcs.create({ tenant: fx.tenant.slug, name: uniq("vpc"), cidr: "10.10.0.0/16", ipv6Cidr: "fd10::/48" });
    expect(vpc.vni).toBeGreaterThanOrEqual(10000);
    const got = await member.vpcs.get({ tenant: fx.tenant.slug, id: vpc.id });
    expect(got).toMatchObject({ cidr: "10.10.0.0/16", ipv6Cidr: "fd10::/48", subnetCount: 0, portCount: 0 });
    expect(got.defaultGroup?.name).toBe("default");
    expect(got.deleteBlockedReason).toBe("Only tenant admins can delete a VPC.");
    const g = await member.securityGroups.get({ tenant: fx.tenant.slug, id: got.defaultGroup!.id });
    expect(g.rules.map((r) => `${r.direction} ${r.ethertype} ${r.protocol} ${r.remoteCidr ?? r.remoteGroupName}`).sort()).toEqual([
      "egress ipv4 any 0.0.0.0/0",
      "egress ipv6 any ::/0",
      "ingress ipv4 any default",
      "ingress ipv6 any default",
    ]);
    const audits = await fx.db.select().from(s.auditEvents).where(eq(s.auditEvents.targetId, vpc.id));
    expect(audits.map((a) => a.action)).toEqual(["vpc.create"]);
    expect(audits[0]!.tenantId).toBe(fx.tenant.id);
  });

  it.each([
    ["8.8.0.0/16", "cidr", "not a private range"],
    ["10.0.0.1/16", "cidr", "host bits set"],
    ["10.0.0.0/8", "cidr", "between /16 and /28"],
    ["banana", "cidr", "not a CIDR"],
  ])("refuses %s with a field error on %s", async (cidr, field, text) => {
    const err = await failure(callerAs(fx, "tenantAdmin").vpcs.create({ tenant: fx.tenant.slug, name: uniq("bad"), cidr }));
    expect(err.code).toBe("BAD_REQUEST");
    expect(err.message).toContain(text);
    expect(fieldOf(err)).toBe(field);
  });

  it("refuses an IPv6 range that is not ULA /48–/64", async () => {
    const err = await failure(
      callerAs(fx, "tenantAdmin").vpcs.create({ tenant: fx.tenant.slug, name: uniq("v6"), cidr: "10.11.0.0/16", ipv6Cidr: "2001:db8::/48" }),
    );
    expect(err.message).toContain("not a unique local range");
  });

  it("public ranges need the operator's permission", async () => {
    const admin = callerAs(fx, "tenantAdmin");
    expect((await failure(admin.vpcs.create({ tenant: fx.tenant.slug, name: uniq("pub"), cidr: "203.0.113.0/24" }))).message).toContain(
      "operator's permission",
    );
    await callerAs(fx, "operatorAdmin").networksAdmin.setTenantPolicy({ tenantSlug: fx.tenant.slug, allowPublicCidrs: true });
    const v = await admin.vpcs.create({ tenant: fx.tenant.slug, name: uniq("pub"), cidr: "203.0.113.0/24" });
    expect(v.cidr).toBe("203.0.113.0/24");
    await callerAs(fx, "operatorAdmin").networksAdmin.setTenantPolicy({ tenantSlug: fx.tenant.slug, allowPublicCidrs: false });
  });

  it("concurrent creates get distinct VNIs (unique constraint + retry)", async () => {
    const other = await makeFixtures(fx.db);
    const calls = Array.from({ length: 8 }, (_, i) =>
      callerAs(i % 2 ? fx : other, "tenantAdmin").vpcs.create({ tenant: (i % 2 ? fx : other).tenant.slug, name: uniq("race"), cidr: "10.12.0.0/16" }),
    );
    const rows = await Promise.all(calls);
    expect(new Set(rows.map((r) => r.vni)).size).toBe(8);
  });

  it("duplicate names are a field error", async () => {
    const name = uniq("dup");
    await callerAs(fx, "tenantAdmin").vpcs.create({ tenant: fx.tenant.slug, name, cidr: "10.13.0.0/16" });
    const err = await failure(callerAs(fx, "tenantAdmin").vpcs.create({ tenant: fx.tenant.slug, name, cidr: "10.14.0.0/16" }));
    expect(err.code).toBe("CONFLICT");
    expect(err.message).toBe("A VPC with this name already exists.");
  });

  it("delete is refused while subnets exist, with the reason; members may not delete; admins can once empty", async () => {
    const admin = callerAs(fx, "tenantAdmin");
    const vpc = await admin.vpcs.create({ tenant: fx.tenant.slug, name: uniq("del"), cidr: "10.15.0.0/16" });
    const sub = await admin.subnets.create({ tenant: fx.tenant.slug, vpcId: vpc.id, name: "a", cidr: "10.15.1.0/24" });
    expect((await failure(callerAs(fx, "tenantMember").vpcs.delete({ tenant: fx.tenant.slug, id: vpc.id }))).code).toBe("FORBIDDEN");
    const err = await failure(admin.vpcs.delete({ tenant: fx.tenant.slug, id: vpc.id }));
    expect(err.code).toBe("PRECONDITION_FAILED");
    expect(err.message).toContain("still has 1 subnet");
    await admin.subnets.delete({ tenant: fx.tenant.slug, id: sub.id });
    await admin.vpcs.delete({ tenant: fx.tenant.slug, id: vpc.id });
    expect((await failure(admin.vpcs.get({ tenant: fx.tenant.slug, id: vpc.id }))).code).toBe("NOT_FOUND");
    expect(await fx.db.select().from(s.securityGroups).where(eq(s.securityGroups.vpcId, vpc.id))).toEqual([]);
  });

  it("another tenant's VPC is NOT_FOUND for every verb, and never listed", async () => {
    const vpc = await callerAs(fx, "tenantAdmin").vpcs.create({ tenant: fx.tenant.slug, name: uniq("mine"), cidr: "10.16.0.0/16" });
    const other = callerAs(fx, "otherTenantMember");
    const t = fx.otherTenant.slug;
    expect((await failure(other.vpcs.get({ tenant: t, id: vpc.id }))).code).toBe("NOT_FOUND");
    expect((await failure(other.vpcs.update({ tenant: t, id: vpc.id, description: "x" }))).code).toBe("NOT_FOUND");
    expect((await failure(other.vpcs.delete({ tenant: t, id: vpc.id }))).code).toBe("NOT_FOUND");
    expect((await failure(other.subnets.create({ tenant: t, vpcId: vpc.id, name: "x", cidr: "10.16.1.0/24" }))).code).toBe("NOT_FOUND");
    expect((await other.vpcs.list({ tenant: t })).items.map((v) => v.id)).not.toContain(vpc.id);
  });

  it("the VPC quota refuses with the numbers", async () => {
    const f2 = await makeFixtures(fx.db);
    await fx.db.insert(s.quotas).values({ tenantId: f2.tenant.id, vpcs: 1 });
    const admin = callerAs(f2, "tenantAdmin");
    await admin.vpcs.create({ tenant: f2.tenant.slug, name: "one", cidr: "10.0.0.0/16" });
    const err = await failure(admin.vpcs.create({ tenant: f2.tenant.slug, name: "two", cidr: "10.1.0.0/16" }));
    expect(err.code).toBe("PRECONDITION_FAILED");
    expect(err.message).toContain("Quota exceeded");
    expect((await admin.vpcs.list({ tenant: f2.tenant.slug })).items).toHaveLength(1);
  });
});
