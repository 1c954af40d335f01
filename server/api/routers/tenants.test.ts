// Tenants router against a real Postgres: lifecycle (create/rename/suspend/resume/delete), a suspended tenant
// refusing writes but not reads, delete refused while the tenant runs resources, list filter/sort/cursor, detail.
import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import * as s from "@/db/schema";
import { uniq } from "@/test/db";
import { callerAs, failure, fieldOf, useFixtures } from "@/test/fixtures";

const fx = useFixtures();

describe("tenants", () => {
  it("creates, renames, suspends, resumes and deletes a tenant, auditing each change", async () => {
    const op = callerAs(fx, "operatorAdmin");
    const slug = uniq("tn");
    const t = await op.tenants.create({ slug, name: "Tenant One" });
    expect(t).toMatchObject({ slug, name: "Tenant One", state: "active" });
    const [quota] = await fx.db.select().from(s.quotas).where(eq(s.quotas.tenantId, t.id));
    expect(quota?.vpcs).toBe(s.QUOTA_DEFAULTS.vpcs);

    const dup = await failure(op.tenants.create({ slug, name: "Again" }));
    expect(dup.code).toBe("CONFLICT");
    expect(fieldOf(dup)).toBe("slug");

    expect((await op.tenants.rename({ id: t.id, name: "Tenant Uno" })).name).toBe("Tenant Uno");
    expect((await op.tenants.suspend({ id: t.id })).state).toBe("suspended");
    expect((await failure(op.tenants.suspend({ id: t.id }))).message).toMatch(/already suspended/);
    expect((await op.tenants.resume({ id: t.id })).state).toBe("active");

    await op.tenants.addMember({ id: t.id, email: fx.principals.tenantMember.email, role: "tenant-admin" });
    await op.tenants.delete({ id: t.id });
    expect((await failure(op.tenants.get({ id: t.id }))).code).toBe("NOT_FOUND");
    // Members go with the tenant; the user stays.
    expect(await fx.db.select().from(s.memberships).where(eq(s.memberships.tenantId, t.id))).toEqual([]);
    expect(await fx.db.select().from(s.users).where(eq(s.users.id, fx.principals.tenantMember.userId))).toHaveLength(1);

    const audits = await fx.db.select().from(s.auditEvents).where(eq(s.auditEvents.targetId, t.id));
    expect(audits.map((a) => a.action).sort()).toEqual(["tenant.create", "tenant.delete", "tenant.rename", "tenant.resume", "tenant.suspend"]);
    expect(audits.find((a) => a.action === "tenant.rename")?.details).toEqual({ name: { from: "Tenant One", to: "Tenant Uno" } });
  });

  it("lets a suspended tenant's members read but refuses writes with the reason; resume restores them", async () => {
    const op = callerAs(fx, "operatorAdmin");
    const admin = callerAs(fx, "tenantAdmin");
    await op.tenants.suspend({ id: fx.tenant.id });
    try {
      const list = await admin.members.list({ tenant: fx.tenant.slug });
      expect(list.items.length).toBeGreaterThanOrEqual(2);
      const e = await failure(admin.members.add({ tenant: fx.tenant.slug, email: `${uniq("x")}@test.local`, name: "X" }));
      expect(e.code).toBe("FORBIDDEN");
      expect(e.message).toMatch(/is suspended: nothing new can be created/);
    } finally {
      await op.tenants.resume({ id: fx.tenant.id });
    }
    const added = await admin.members.add({ tenant: fx.tenant.slug, email: `${uniq("y")}@test.local`, name: "Y" });
    expect(added.outcome).toBe("created");
  });

  it("refuses to delete a tenant that still has resources, naming them", async () => {
    const op = callerAs(fx, "operatorAdmin");
    const t = await op.tenants.create({ slug: uniq("busy"), name: "Busy" });
    await fx.db.insert(s.vpcs).values({ tenantId: t.id, name: "main", cidr: "10.0.0.0/16", vni: 20000 + Math.floor(Math.random() * 1_000_000) });
    const e = await failure(op.tenants.delete({ id: t.id }));
    expect(e.code).toBe("PRECONDITION_FAILED");
    expect(e.message).toMatch(/still has 1 vpcs; they must be deleted/);
    expect((await op.tenants.get({ id: t.id })).usage.vpcs).toBe(1);
  });

  it("shows detail with members, admin count, quota and usage", async () => {
    const d = await callerAs(fx, "operatorViewer").tenants.get({ id: fx.tenant.id });
    expect(d.memberCount).toBeGreaterThanOrEqual(2);
    expect(d.adminCount).toBeGreaterThanOrEqual(1);
    expect(d.quota.instances).toBe(s.QUOTA_DEFAULTS.instances);
    expect(d.usage.vpcs).toBe(0);
    const members = await callerAs(fx, "operatorViewer").tenants.members({ id: fx.tenant.id });
    expect(members.items.map((m) => m.email)).toContain(fx.principals.tenantAdmin.email);
  });

  it("lists with filter, state, sort and cursor; rejects bad input naming the field", async () => {
    const op = callerAs(fx, "operatorAdmin");
    const tag = uniq("ls").replace("-", "");
    for (const c of "edcba") await op.tenants.create({ slug: `${tag}-${c}`, name: `${tag} ${c}` });
    const [second] = (await op.tenants.list({ q: tag, sort: "slug", limit: 2 })).items.slice(1);
    await op.tenants.suspend({ id: second!.id });
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const res: { items: { slug: string }[]; nextCursor: string | null } = await op.tenants.list({ q: tag, sort: "slug", limit: 2, cursor });
      seen.push(...res.items.map((i) => i.slug));
      cursor = res.nextCursor;
    } while (cursor);
    expect(seen).toEqual(["a", "b", "c", "d", "e"].map((c) => `${tag}-${c}`));
    expect((await op.tenants.list({ q: tag, state: "suspended" })).items.map((i) => i.slug)).toEqual([`${tag}-b`]);
    expect((await op.tenants.list({ q: tag, sort: "name", dir: "desc" })).items[0]!.slug).toBe(`${tag}-e`);
    for (const slug of ["Has Caps", "-dash", "a", "ops"]) {
      const e = await failure(op.tenants.create({ slug, name: "x" }));
      expect(e.code, slug).toBe("BAD_REQUEST");
      expect(e.message).toMatch(/slug/);
    }
  });
});
