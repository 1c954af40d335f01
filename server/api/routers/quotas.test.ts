// Quotas router against a real Postgres: tenants read their limits and usage, operator admins set limits
// (audited with from/to), usage counts existing resource tables and registered counters, bad limits refused.
import { and, eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import * as s from "@/db/schema";
import { callerAs, failure, useFixtures } from "@/test/fixtures";

const fx = useFixtures();

describe("quotas", () => {
  it("shows a tenant its limits (defaults) and usage from the resource tables", async () => {
    await fx.db.insert(s.vpcs).values({ tenantId: fx.tenant.id, name: "q1", cidr: "10.1.0.0/16", vni: 30000 + Math.floor(Math.random() * 1_000_000) });
    const q = await callerAs(fx, "tenantMember").quotas.get({ tenant: fx.tenant.slug });
    expect(q.limits).toEqual(s.QUOTA_DEFAULTS);
    expect(q.usage.vpcs).toBe(1);
    expect(q.usage.subnets).toBe(0);
    // The instances area measures compute (server/services/instance-usage.ts): nothing runs yet.
    expect(q.usage).toMatchObject({ instances: 0, cores: 0, ramGiB: 0 });
  });

  it("lets operator admins set limits, audited, and refuses bad values", async () => {
    const op = callerAs(fx, "operatorAdmin");
    const r = await op.quotas.set({ tenantId: fx.otherTenant.id, limits: { vpcs: 1, instances: 3 } });
    expect(r.limits).toMatchObject({ vpcs: 1, instances: 3, subnets: s.QUOTA_DEFAULTS.subnets });
    expect((await callerAs(fx, "otherTenantMember").quotas.get({ tenant: fx.otherTenant.slug })).limits.vpcs).toBe(1);
    const [a] = await fx.db
      .select()
      .from(s.auditEvents)
      .where(and(eq(s.auditEvents.action, "quota.set"), eq(s.auditEvents.targetId, fx.otherTenant.id)));
    expect(a?.details).toEqual({ vpcs: { from: s.QUOTA_DEFAULTS.vpcs, to: 1 }, instances: { from: s.QUOTA_DEFAULTS.instances, to: 3 } });
    for (const limits of [{ vpcs: -1 }, { vpcs: 1.5 }, { bogus: 1 }]) {
      expect((await failure(op.quotas.set({ tenantId: fx.otherTenant.id, limits: limits as never }))).code, JSON.stringify(limits)).toBe("BAD_REQUEST");
    }
    expect((await failure(op.quotas.set({ tenantId: crypto.randomUUID(), limits: { vpcs: 1 } }))).code).toBe("NOT_FOUND");
  });
});
