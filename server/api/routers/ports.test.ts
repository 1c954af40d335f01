// Ports router against a real Postgres: the address quota refuses in the create's transaction (no port, no address
// left behind), changing a port's groups reaches the ports that name those groups as remote, a port bound to a
// server cannot be deleted, and another tenant's port is NOT_FOUND for every verb.
import { eq } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";
import * as s from "@/db/schema";
import { ruleSetAllows } from "@/server/domain/rule-compiler";
import { uniq } from "@/test/db";
import { appAndDbGroups, callerAs, failure, makeNetwork, portRulesVersion, useFixtures } from "@/test/fixtures";

const fx = useFixtures({ addresses: 4 });
let subnetId: string;
let vpcId: string;
beforeAll(async () => {
  ({ vpcId, subnetId } = await makeNetwork(fx));
});

const version = (id: string) => portRulesVersion(fx.db, id);

describe("ports", () => {
  it("group changes on a port reach the ports whose rules name those groups", async () => {
    const m = callerAs(fx, "tenantMember");
    const t = fx.tenant.slug;
    const { app, db } = await appAndDbGroups(fx, vpcId);
    const dbPort = await m.ports.create({ tenant: t, subnetId, name: uniq("db"), securityGroupIds: [db.id] });
    const appPort = await m.ports.create({ tenant: t, subnetId, name: uniq("app"), securityGroupIds: [] });
    const pkt = { direction: "ingress" as const, protocol: "tcp" as const, port: 5432, remote: appPort.address };
    expect(ruleSetAllows((await m.ports.rules({ tenant: t, id: dbPort.id })).ruleSet, pkt)).toBe(false);
    const before = await version(dbPort.id);
    await m.ports.update({ tenant: t, id: appPort.id, securityGroupIds: [app.id] });
    expect(await version(dbPort.id)).toBe(before + 1);
    expect(ruleSetAllows((await m.ports.rules({ tenant: t, id: dbPort.id })).ruleSet, pkt)).toBe(true);
    const got = await m.ports.get({ tenant: t, id: appPort.id });
    expect(got.securityGroups.map((g) => g.id)).toEqual([app.id]);
    // leaving the group (by deleting the port) reaches the db port again
    await m.ports.delete({ tenant: t, id: appPort.id });
    expect(await version(dbPort.id)).toBe(before + 2);
    expect(ruleSetAllows((await m.ports.rules({ tenant: t, id: dbPort.id })).ruleSet, pkt)).toBe(false);
    await m.ports.delete({ tenant: t, id: dbPort.id });
  });

  it("the address quota refuses inside the create's transaction: no port, no address", async () => {
    const m = callerAs(fx, "tenantMember");
    const made = [];
    for (let i = 0; i < 4; i++) made.push(await m.ports.create({ tenant: fx.tenant.slug, subnetId, name: uniq("q") }));
    const err = await failure(m.ports.create({ tenant: fx.tenant.slug, subnetId, name: "over-quota" }));
    expect(err.code).toBe("PRECONDITION_FAILED");
    expect(err.message).toContain("4 addresses");
    expect(await fx.db.select().from(s.ports).where(eq(s.ports.name, "over-quota"))).toEqual([]);
    expect(await fx.db.select().from(s.ipAllocations).where(eq(s.ipAllocations.subnetId, subnetId))).toHaveLength(4);
    for (const p of made) await m.ports.delete({ tenant: fx.tenant.slug, id: p.id });
  });

  it("a port plugged into a server cannot be deleted; another tenant's port is NOT_FOUND", async () => {
    const m = callerAs(fx, "tenantMember");
    const p = await m.ports.create({ tenant: fx.tenant.slug, subnetId, name: uniq("bound") });
    const [node] = await fx.db
      .insert(s.nodes)
      .values({ name: uniq("host"), bmcDriver: "redfish", bmcAddress: `http://127.0.0.1:1/${p.id}`, bmcCredentials: "x", bmcCredentialsFingerprint: "f" })
      .returning();
    await fx.db.update(s.ports).set({ nodeId: node!.id }).where(eq(s.ports.id, p.id));
    expect((await failure(m.ports.delete({ tenant: fx.tenant.slug, id: p.id }))).message).toContain("plugged into a server");
    const o = callerAs(fx, "otherTenantMember");
    const t = fx.otherTenant.slug;
    const calls = [
      () => o.ports.get({ tenant: t, id: p.id }),
      () => o.ports.rules({ tenant: t, id: p.id }),
      () => o.ports.update({ tenant: t, id: p.id, description: "x" }),
      () => o.ports.delete({ tenant: t, id: p.id }),
    ];
    for (const call of calls) expect((await failure(call())).code).toBe("NOT_FOUND");
    expect((await o.ports.list({ tenant: t })).items).toEqual([]);
  });
});
