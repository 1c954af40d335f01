// Operator networking view against a real Postgres: VPCs/subnets across tenants with VNI and VLAN, provider network
// CRUD with overlap and VLAN field errors, tenant network policy; tenants never see any of it.
import { describe, expect, it } from "vitest";
import { callerAs, failure, useFixtures } from "@/test/fixtures";

const fx = useFixtures({ vpcs: 100, subnets: 200, securityGroups: 200 });

describe("networksAdmin", () => {
  it("lists every tenant's VPCs and subnets with VNI and VLAN", async () => {
    const a = callerAs(fx, "tenantAdmin");
    const vpc = await a.vpcs.create({ tenant: fx.tenant.slug, name: "ops-visible", cidr: "10.50.0.0/16" });
    await a.subnets.create({ tenant: fx.tenant.slug, vpcId: vpc.id, name: "vlan", cidr: "10.50.1.0/24", vlanId: 321 });
    const op = callerAs(fx, "operatorViewer");
    const vpcs = await op.networksAdmin.vpcs({ q: fx.tenant.slug, limit: 200 });
    expect(vpcs.items.find((v) => v.id === vpc.id)).toMatchObject({ vni: vpc.vni, tenantSlug: fx.tenant.slug, subnetCount: 1 });
    const subs = await op.networksAdmin.subnets({ q: fx.tenant.slug, vlanOnly: true });
    expect(subs.items.map((x) => [x.name, x.vlanId, x.vni])).toContainEqual(["vlan", 321, vpc.vni]);
    const o = await op.networksAdmin.overview();
    expect(o.vpcs).toBeGreaterThanOrEqual(1);
    expect(o.vniRange.free).toBe(o.vniRange.max - o.vniRange.min + 1 - o.vpcs);
  });

  it("provider networks: create, overlap and VLAN conflicts are field errors, update, delete; viewers cannot change", async () => {
    const op = callerAs(fx, "operatorAdmin");
    const pn = await op.networksAdmin.createProviderNetwork({ name: "public-a", cidr: "198.51.100.0/24", vlanId: 2001 });
    const overlap = await failure(op.networksAdmin.createProviderNetwork({ name: "public-b", cidr: "198.51.100.128/25", vlanId: 2002 }));
    expect(overlap.message).toContain("overlaps provider network public-a");
    const vlan = await failure(op.networksAdmin.createProviderNetwork({ name: "public-c", cidr: "192.0.2.0/24", vlanId: 2001 }));
    expect(vlan.message).toBe("Another provider network uses this VLAN.");
    expect((await failure(callerAs(fx, "operatorViewer").networksAdmin.deleteProviderNetwork({ id: pn.id }))).code).toBe("FORBIDDEN");
    expect((await op.networksAdmin.updateProviderNetwork({ id: pn.id, description: "uplink" })).description).toBe("uplink");
    await op.networksAdmin.deleteProviderNetwork({ id: pn.id });
    expect((await failure(op.networksAdmin.deleteProviderNetwork({ id: pn.id }))).code).toBe("NOT_FOUND");
  });

  it("tenants get NOT_FOUND for the operator view", async () => {
    expect((await failure(callerAs(fx, "tenantAdmin").networksAdmin.vpcs({}))).code).toBe("NOT_FOUND");
  });
});
