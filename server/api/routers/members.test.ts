// Members router against a real Postgres: add an existing user by email, invite a new one (temporary password
// shown once), duplicates and unknown emails as field errors, remove and set role, and the last-admin rule.
import type { TRPCError } from "@trpc/server";
import { and, eq } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";
import * as s from "@/db/schema";
import { uniq, useTestDb } from "@/test/db";
import { callerAs, type Fixtures, makeFixtures } from "@/test/fixtures";

let fx: Fixtures;
beforeAll(async () => {
  fx = await makeFixtures(useTestDb());
});

const errOf = (p: Promise<unknown>) => p.then(() => null, (e: TRPCError) => e);
const fieldOf = (e: TRPCError | null) => (e?.cause as { field?: string } | undefined)?.field;

describe("members", () => {
  it("adds an existing user by email and invites a new one with a temporary password", async () => {
    const admin = callerAs(fx, "tenantAdmin");
    const tenant = fx.tenant.slug;
    const existing = await admin.members.add({ tenant, email: fx.principals.otherTenantMember.email.toUpperCase() });
    expect(existing).toMatchObject({ invited: false, temporaryPassword: null, role: "tenant-member" });
    const email = `${uniq("inv")}@test.local`;
    const invited = await admin.members.add({ tenant, email, name: "Invitee", role: "tenant-admin" });
    expect(invited.invited).toBe(true);
    expect(invited.temporaryPassword).toMatch(/^[A-Za-z0-9_-]{24}$/);
    const [acct] = await fx.db.select().from(s.accounts).where(eq(s.accounts.userId, invited.user.id));
    expect(acct?.password).not.toContain(invited.temporaryPassword!);
    const list = await admin.members.list({ tenant, q: email });
    expect(list.items).toEqual([expect.objectContaining({ email, role: "tenant-admin" })]);

    const dup = await errOf(admin.members.add({ tenant, email }));
    expect([dup?.code, fieldOf(dup)]).toEqual(["CONFLICT", "email"]);
    expect(dup?.message).toMatch(/already a member/);
    const unknown = await errOf(admin.members.add({ tenant, email: `${uniq("nobody")}@test.local` }));
    expect([unknown?.code, fieldOf(unknown)]).toEqual(["NOT_FOUND", "email"]);
    expect(unknown?.message).toMatch(/Give a name to invite them/);

    const audits = await fx.db.select().from(s.auditEvents).where(and(eq(s.auditEvents.tenantId, fx.tenant.id), eq(s.auditEvents.action, "member.add")));
    expect(audits.map((a) => a.targetName)).toEqual(expect.arrayContaining([email, fx.principals.otherTenantMember.email]));
  });

  it("keeps the last tenant admin: can't be removed or demoted until another admin exists", async () => {
    const op = callerAs(fx, "operatorAdmin");
    const t = await op.tenants.create({ slug: uniq("la"), name: "Last Admin Inc" });
    const a = await op.tenants.addMember({ id: t.id, email: `${uniq("a")}@test.local`, name: "A", role: "tenant-admin" });
    const b = await op.tenants.addMember({ id: t.id, email: `${uniq("b")}@test.local`, name: "B", role: "tenant-member" });
    const remove = await errOf(op.tenants.removeMember({ id: t.id, userId: a.user.id }));
    expect(remove?.code).toBe("PRECONDITION_FAILED");
    expect(remove?.message).toMatch(/Last Admin Inc's last tenant admin; make another member an admin before you remove them/);
    const demote = await errOf(op.tenants.setMemberRole({ id: t.id, userId: a.user.id, role: "tenant-member" }));
    expect(demote?.message).toMatch(/before you demote them/);
    await op.tenants.setMemberRole({ id: t.id, userId: b.user.id, role: "tenant-admin" });
    await op.tenants.setMemberRole({ id: t.id, userId: a.user.id, role: "tenant-member" });
    await op.tenants.removeMember({ id: t.id, userId: a.user.id });
    const left = await fx.db.select().from(s.memberships).where(eq(s.memberships.tenantId, t.id));
    expect(left).toEqual([expect.objectContaining({ userId: b.user.id, role: "tenant-admin" })]);
    expect((await errOf(op.tenants.removeMember({ id: t.id, userId: a.user.id })))?.code).toBe("NOT_FOUND");
  });

  it("lets exactly one of two admins demoting each other at the same time succeed", async () => {
    const op = callerAs(fx, "operatorAdmin");
    const t = await op.tenants.create({ slug: uniq("race"), name: "Race" });
    const a = await op.tenants.addMember({ id: t.id, email: `${uniq("ra")}@test.local`, name: "A", role: "tenant-admin" });
    const b = await op.tenants.addMember({ id: t.id, email: `${uniq("rb")}@test.local`, name: "B", role: "tenant-admin" });
    const as = (u: { id: string; email: string }) =>
      callerAs({ ...fx, principals: { ...fx.principals, tenantAdmin: { ...fx.principals.tenantAdmin, userId: u.id, email: u.email } } }, "tenantAdmin");
    const results = await Promise.allSettled([
      as(a.user).members.setRole({ tenant: t.slug, userId: b.user.id, role: "tenant-member" }),
      as(b.user).members.setRole({ tenant: t.slug, userId: a.user.id, role: "tenant-member" }),
    ]);
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
    const refused = results.find((r) => r.status === "rejected") as PromiseRejectedResult;
    // The loser is either refused by the rule or has already lost its own admin role (FORBIDDEN) — never both demoted.
    expect(["PRECONDITION_FAILED", "FORBIDDEN"]).toContain((refused.reason as TRPCError).code);
    const admins = await fx.db.select().from(s.memberships).where(and(eq(s.memberships.tenantId, t.id), eq(s.memberships.role, "tenant-admin")));
    expect(admins).toHaveLength(1);
  });

  it("lets tenant admins remove and re-role members of their own tenant only", async () => {
    const admin = callerAs(fx, "tenantAdmin");
    const email = `${uniq("rm")}@test.local`;
    const m = await admin.members.add({ tenant: fx.tenant.slug, email, name: "Removable" });
    await admin.members.setRole({ tenant: fx.tenant.slug, userId: m.user.id, role: "tenant-admin" });
    await admin.members.setRole({ tenant: fx.tenant.slug, userId: m.user.id, role: "tenant-member" });
    // A non-member (even an operator) can't touch this tenant here, and this tenant's admin can't touch another.
    expect((await errOf(callerAs(fx, "operatorAdmin").members.remove({ tenant: fx.tenant.slug, userId: m.user.id })))?.code).toBe("NOT_FOUND");
    expect((await errOf(admin.members.remove({ tenant: fx.otherTenant.slug, userId: fx.principals.otherTenantMember.userId })))?.code).toBe("NOT_FOUND");
    expect((await errOf(callerAs(fx, "tenantMember").members.remove({ tenant: fx.tenant.slug, userId: m.user.id })))?.code).toBe("FORBIDDEN");
    await admin.members.remove({ tenant: fx.tenant.slug, userId: m.user.id });
    expect((await admin.members.list({ tenant: fx.tenant.slug, q: email })).items).toEqual([]);
  });
});
