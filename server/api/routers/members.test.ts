// Members router against a real Postgres: a tenant admin's add is an invitation (an existing account gets a pending
// invitation and no membership, and the answer says nothing about it), a name for an address without an account
// creates it (temporary password shown once, joins at once); duplicates as field errors; remove and set role, and
// the last-admin rule. Accepting/declining/revoking invitations: invitations.test.ts.
import type { TRPCError } from "@trpc/server";
import { and, eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import * as s from "@/db/schema";
import { uniq } from "@/test/db";
import { callerAs, failure, fieldOf, useFixtures } from "@/test/fixtures";

const fx = useFixtures();

/** A platform user in no tenant of the fixtures, with a name that can be searched for in a response. */
async function outsider() {
  const id = crypto.randomUUID();
  const email = `${uniq("outsider")}@test.local`;
  const name = `Secretname ${uniq("n")}`;
  await fx.db.insert(s.users).values({ id, email, name });
  return { id, email, name };
}

describe("members", () => {
  it("invites an existing user without adding them or revealing anything about them", async () => {
    const admin = callerAs(fx, "tenantAdmin");
    const tenant = fx.tenant.slug;
    const u = await outsider();
    // Upper case, with a name given: the name is ignored for an existing account (it must not create or rename one).
    const res = await admin.members.add({ tenant, email: u.email.toUpperCase(), name: "Someone Else", role: "tenant-admin" });
    expect(res).toEqual({
      outcome: "invited",
      email: u.email,
      role: "tenant-admin",
      message: `Invitation sent to ${u.email}; they join when they accept.`,
      temporaryPassword: null,
    });
    expect(JSON.stringify(res)).not.toContain(u.id);
    expect(JSON.stringify(res)).not.toContain(u.name);
    expect(
      await fx.db
        .select()
        .from(s.memberships)
        .where(and(eq(s.memberships.tenantId, fx.tenant.id), eq(s.memberships.userId, u.id))),
    ).toEqual([]);
    const [inv] = await fx.db
      .select()
      .from(s.tenantInvitations)
      .where(and(eq(s.tenantInvitations.tenantId, fx.tenant.id), eq(s.tenantInvitations.email, u.email)));
    expect(inv).toMatchObject({ status: "pending", role: "tenant-admin", invitedBy: fx.principals.tenantAdmin.userId });
    expect(inv!.expiresAt.getTime() - inv!.createdAt.getTime()).toBe(7 * 86_400_000);
    const [user] = await fx.db.select().from(s.users).where(eq(s.users.id, u.id));
    expect(user!.name).toBe(u.name);
    // Not in the member list, which only shows members.
    expect((await admin.members.list({ tenant, q: u.email })).items).toEqual([]);
    const audits = await fx.db
      .select()
      .from(s.auditEvents)
      .where(and(eq(s.auditEvents.tenantId, fx.tenant.id), eq(s.auditEvents.targetId, inv!.id)));
    expect(audits).toEqual([expect.objectContaining({ action: "invitation.create", targetName: u.email, actorUserId: fx.principals.tenantAdmin.userId })]);
  });

  it("answers an unknown address without a name exactly as an existing one: an invitation for that address", async () => {
    const admin = callerAs(fx, "tenantAdmin");
    const u = await outsider();
    const unknown = `${uniq("nobody")}@test.local`;
    const a = await admin.members.add({ tenant: fx.tenant.slug, email: u.email });
    const b = await admin.members.add({ tenant: fx.tenant.slug, email: unknown });
    expect({ ...b, email: "x", message: b.message.replace(unknown, "x") }).toEqual({ ...a, email: "x", message: a.message.replace(u.email, "x") });
    expect(b.outcome).toBe("invited");
    expect(await fx.db.select().from(s.users).where(eq(s.users.email, unknown))).toEqual([]);
  });

  it("creates an account for an address without one when a name is given: temporary password once, member at once", async () => {
    const admin = callerAs(fx, "tenantAdmin");
    const tenant = fx.tenant.slug;
    const email = `${uniq("inv")}@test.local`;
    const created = await admin.members.add({ tenant, email, name: "Invitee", role: "tenant-admin" });
    expect(created).toMatchObject({ outcome: "created", email, role: "tenant-admin" });
    expect(created.temporaryPassword).toMatch(/^[A-Za-z0-9_-]{24}$/);
    const [user] = await fx.db.select().from(s.users).where(eq(s.users.email, email));
    const [acct] = await fx.db.select().from(s.accounts).where(eq(s.accounts.userId, user!.id));
    expect(acct?.password).not.toContain(created.temporaryPassword!);
    const list = await admin.members.list({ tenant, q: email });
    expect(list.items).toEqual([expect.objectContaining({ email, role: "tenant-admin" })]);
    expect(await fx.db.select().from(s.tenantInvitations).where(eq(s.tenantInvitations.email, email))).toEqual([]);
    const audits = await fx.db
      .select()
      .from(s.auditEvents)
      .where(and(eq(s.auditEvents.tenantId, fx.tenant.id), eq(s.auditEvents.action, "member.add")));
    expect(audits.map((a) => a.targetName)).toContain(email);
  });

  it("refuses a member or an address already invited as field errors", async () => {
    const admin = callerAs(fx, "tenantAdmin");
    const tenant = fx.tenant.slug;
    const dup = await failure(admin.members.add({ tenant, email: fx.principals.tenantMember.email }));
    expect([dup.code, fieldOf(dup)]).toEqual(["CONFLICT", "email"]);
    expect(dup.message).toMatch(/already a member/);
    const u = await outsider();
    await admin.members.add({ tenant, email: u.email });
    const again = await failure(admin.members.add({ tenant, email: u.email, role: "tenant-admin" }));
    expect([again.code, fieldOf(again)]).toEqual(["CONFLICT", "email"]);
    expect(again.message).toMatch(/already has a pending invitation .*; revoke it first/);
    // Two admins inviting the same address at once: one invitation, the other a field error (the unique index).
    const v = `${uniq("race")}@test.local`;
    const raced = await Promise.allSettled([admin.members.add({ tenant, email: v }), admin.members.add({ tenant, email: v })]);
    expect(raced.filter((r) => r.status === "fulfilled")).toHaveLength(1);
    const lost = (raced.find((r) => r.status === "rejected") as PromiseRejectedResult).reason as TRPCError;
    expect([lost.code, fieldOf(lost)]).toEqual(["CONFLICT", "email"]);
    expect(await fx.db.select().from(s.tenantInvitations).where(eq(s.tenantInvitations.email, v))).toHaveLength(1);
  });

  it("lets operators add an existing user directly (no invitation), closing a pending invitation of that address", async () => {
    const op = callerAs(fx, "operatorAdmin");
    const u = await outsider();
    await callerAs(fx, "tenantAdmin").members.add({ tenant: fx.tenant.slug, email: u.email });
    const added = await op.tenants.addMember({ id: fx.tenant.id, email: u.email, role: "tenant-member" });
    expect(added).toMatchObject({ user: { id: u.id, email: u.email }, invited: false, temporaryPassword: null });
    const [m] = await fx.db
      .select()
      .from(s.memberships)
      .where(and(eq(s.memberships.tenantId, fx.tenant.id), eq(s.memberships.userId, u.id)));
    expect(m?.role).toBe("tenant-member");
    const invs = await fx.db.select().from(s.tenantInvitations).where(eq(s.tenantInvitations.email, u.email));
    expect(invs.map((i) => i.status)).toEqual(["revoked"]);
    const unknown = await failure(op.tenants.addMember({ id: fx.tenant.id, email: `${uniq("nobody")}@test.local`, role: "tenant-member" }));
    expect([unknown.code, fieldOf(unknown)]).toEqual(["NOT_FOUND", "email"]);
    expect(unknown.message).toMatch(/Give a name to invite them/);
  });

  it("keeps the last tenant admin: can't be removed or demoted until another admin exists", async () => {
    const op = callerAs(fx, "operatorAdmin");
    const t = await op.tenants.create({ slug: uniq("la"), name: "Last Admin Inc" });
    const a = await op.tenants.addMember({ id: t.id, email: `${uniq("a")}@test.local`, name: "A", role: "tenant-admin" });
    const b = await op.tenants.addMember({ id: t.id, email: `${uniq("b")}@test.local`, name: "B", role: "tenant-member" });
    const remove = await failure(op.tenants.removeMember({ id: t.id, userId: a.user.id }));
    expect(remove.code).toBe("PRECONDITION_FAILED");
    expect(remove.message).toMatch(/Last Admin Inc's last tenant admin; make another member an admin before you remove them/);
    const demote = await failure(op.tenants.setMemberRole({ id: t.id, userId: a.user.id, role: "tenant-member" }));
    expect(demote.message).toMatch(/before you demote them/);
    await op.tenants.setMemberRole({ id: t.id, userId: b.user.id, role: "tenant-admin" });
    await op.tenants.setMemberRole({ id: t.id, userId: a.user.id, role: "tenant-member" });
    await op.tenants.removeMember({ id: t.id, userId: a.user.id });
    const left = await fx.db.select().from(s.memberships).where(eq(s.memberships.tenantId, t.id));
    expect(left).toEqual([expect.objectContaining({ userId: b.user.id, role: "tenant-admin" })]);
    expect((await failure(op.tenants.removeMember({ id: t.id, userId: a.user.id }))).code).toBe("NOT_FOUND");
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
    const admins = await fx.db
      .select()
      .from(s.memberships)
      .where(and(eq(s.memberships.tenantId, t.id), eq(s.memberships.role, "tenant-admin")));
    expect(admins).toHaveLength(1);
  });

  it("lets tenant admins remove and re-role members of their own tenant only", async () => {
    const admin = callerAs(fx, "tenantAdmin");
    const email = `${uniq("rm")}@test.local`;
    await admin.members.add({ tenant: fx.tenant.slug, email, name: "Removable" });
    const [m] = (await admin.members.list({ tenant: fx.tenant.slug, q: email })).items;
    await admin.members.setRole({ tenant: fx.tenant.slug, userId: m!.id, role: "tenant-admin" });
    await admin.members.setRole({ tenant: fx.tenant.slug, userId: m!.id, role: "tenant-member" });
    // A non-member (even an operator) can't touch this tenant here, and this tenant's admin can't touch another.
    expect((await failure(callerAs(fx, "operatorAdmin").members.remove({ tenant: fx.tenant.slug, userId: m!.id }))).code).toBe("NOT_FOUND");
    expect((await failure(admin.members.remove({ tenant: fx.otherTenant.slug, userId: fx.principals.otherTenantMember.userId }))).code).toBe("NOT_FOUND");
    expect((await failure(callerAs(fx, "tenantMember").members.remove({ tenant: fx.tenant.slug, userId: m!.id }))).code).toBe("FORBIDDEN");
    await admin.members.remove({ tenant: fx.tenant.slug, userId: m!.id });
    expect((await admin.members.list({ tenant: fx.tenant.slug, q: email })).items).toEqual([]);
  });
});
