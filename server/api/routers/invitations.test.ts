// Invitations against a real Postgres: the invitee (signed in with the invited address) sees and accepts (membership
// in the same transaction, audited) or declines; nobody else can see or answer it; tenant admins list and revoke;
// expired, revoked, declined and accepted invitations are refused with the reason; an address invited before it had
// an account is answered once the account exists; API tokens can't answer; a tenant with invitations can be deleted.
import { and, eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import * as s from "@/db/schema";
import { createCaller } from "@/server/api/root";
import type { Principal } from "@/server/auth/principal";
import { uniq } from "@/test/db";
import { callerAs, failure, useFixtures } from "@/test/fixtures";

const fx = useFixtures();

const DAY = 86_400_000;

/** A platform user in no tenant of the fixtures, and a caller signed in as them. */
async function person(tokenScope: Principal["tokenScope"] = null) {
  const id = crypto.randomUUID();
  const email = `${uniq("invitee")}@test.local`;
  const name = `Invitee ${uniq("n")}`;
  await fx.db.insert(s.users).values({ id, email, name });
  return { id, email, name, caller: as({ userId: id, email, name, tokenScope }) };
}

function as(p: { userId: string; email: string; name: string; tokenScope?: Principal["tokenScope"] }) {
  const principal: Principal = { platformRole: null, sessionId: null, tokenScope: null, ...p };
  return createCaller({ db: fx.db, principal, requestId: `test-${p.email}`, headers: new Headers() });
}

async function invite(email: string, role: "tenant-admin" | "tenant-member" = "tenant-member") {
  await callerAs(fx, "tenantAdmin").members.add({ tenant: fx.tenant.slug, email, role });
  const [inv] = await fx.db
    .select()
    .from(s.tenantInvitations)
    .where(and(eq(s.tenantInvitations.tenantId, fx.tenant.id), eq(s.tenantInvitations.email, email), eq(s.tenantInvitations.status, "pending")));
  return inv!;
}

const membershipOf = async (userId: string) =>
  (
    await fx.db
      .select()
      .from(s.memberships)
      .where(and(eq(s.memberships.tenantId, fx.tenant.id), eq(s.memberships.userId, userId)))
  )[0];

describe("invitations", () => {
  it("lets the invitee see and accept it: member with the invited role, in one audited transaction", async () => {
    const p = await person();
    const inv = await invite(p.email, "tenant-admin");
    const mine = await p.caller.invitations.mine();
    expect(mine.items).toEqual([
      expect.objectContaining({ id: inv.id, tenantName: "Acme test", tenantSlug: fx.tenant.slug, role: "tenant-admin", invitedByName: "tadmin" }),
    ]);
    // Nobody else sees it or can answer it; to them it does not exist.
    expect((await callerAs(fx, "tenantMember").invitations.mine()).items.map((i) => i.id)).not.toContain(inv.id);
    for (const other of [callerAs(fx, "tenantMember"), callerAs(fx, "otherTenantMember"), callerAs(fx, "operatorAdmin"), (await person()).caller]) {
      expect((await failure(other.invitations.accept({ id: inv.id }))).code).toBe("NOT_FOUND");
      expect((await failure(other.invitations.decline({ id: inv.id }))).code).toBe("NOT_FOUND");
    }
    expect(await membershipOf(p.id)).toBeUndefined();

    const res = await p.caller.invitations.accept({ id: inv.id });
    expect(res).toEqual({ id: inv.id, status: "accepted", role: "tenant-admin", tenant: { slug: fx.tenant.slug, name: "Acme test" } });
    expect((await membershipOf(p.id))?.role).toBe("tenant-admin");
    const [after] = await fx.db.select().from(s.tenantInvitations).where(eq(s.tenantInvitations.id, inv.id));
    expect(after).toMatchObject({ status: "accepted", closedBy: p.id });
    const audits = await fx.db
      .select()
      .from(s.auditEvents)
      .where(and(eq(s.auditEvents.targetId, inv.id), eq(s.auditEvents.action, "invitation.accept")));
    expect(audits).toEqual([expect.objectContaining({ actorUserId: p.id, tenantId: fx.tenant.id, targetName: p.email })]);
    // Now a member: the portal's procedures answer, the invitation is gone from both lists, a second accept is refused.
    expect((await p.caller.members.list({ tenant: fx.tenant.slug })).myRole).toBe("tenant-admin");
    expect((await p.caller.invitations.mine()).items).toEqual([]);
    expect((await callerAs(fx, "tenantAdmin").invitations.list({ tenant: fx.tenant.slug })).items.map((i) => i.id)).not.toContain(inv.id);
    const twice = await failure(p.caller.invitations.accept({ id: inv.id }));
    expect([twice.code, twice.message]).toEqual(["PRECONDITION_FAILED", "You have already accepted this invitation to Acme test."]);
  });

  it("lets the invitee decline it: no membership, and the address can be invited again", async () => {
    const p = await person();
    const inv = await invite(p.email);
    expect((await p.caller.invitations.decline({ id: inv.id })).status).toBe("declined");
    expect(await membershipOf(p.id)).toBeUndefined();
    expect((await p.caller.invitations.mine()).items).toEqual([]);
    const late = await failure(p.caller.invitations.accept({ id: inv.id }));
    expect(late.code).toBe("PRECONDITION_FAILED");
    expect(late.message).toMatch(/You declined this invitation to Acme test; ask one of its tenant admins to invite you again/);
    const audits = await fx.db
      .select()
      .from(s.auditEvents)
      .where(and(eq(s.auditEvents.targetId, inv.id), eq(s.auditEvents.action, "invitation.decline")));
    expect(audits).toHaveLength(1);
    const again = await invite(p.email);
    expect(again.id).not.toBe(inv.id);
  });

  it("lets tenant admins list pending invitations and revoke one; the invitee is then refused clearly", async () => {
    const admin = callerAs(fx, "tenantAdmin");
    const p = await person();
    const inv = await invite(p.email);
    const list = await admin.invitations.list({ tenant: fx.tenant.slug });
    expect(list.items).toContainEqual(
      expect.objectContaining({ id: inv.id, email: p.email, role: "tenant-member", status: "pending", invitedBy: fx.principals.tenantAdmin.email }),
    );
    // Members can't see or revoke them; another tenant's admin can't reach them at all.
    expect((await failure(callerAs(fx, "tenantMember").invitations.list({ tenant: fx.tenant.slug }))).code).toBe("FORBIDDEN");
    expect((await failure(callerAs(fx, "tenantMember").invitations.revoke({ tenant: fx.tenant.slug, id: inv.id }))).code).toBe("FORBIDDEN");
    expect((await failure(callerAs(fx, "otherTenantMember").invitations.revoke({ tenant: fx.otherTenant.slug, id: inv.id }))).code).toBe("NOT_FOUND");

    expect(await admin.invitations.revoke({ tenant: fx.tenant.slug, id: inv.id })).toEqual({ id: inv.id, email: p.email });
    expect((await admin.invitations.list({ tenant: fx.tenant.slug })).items.map((i) => i.id)).not.toContain(inv.id);
    expect((await p.caller.invitations.mine()).items).toEqual([]);
    const refused = await failure(p.caller.invitations.accept({ id: inv.id }));
    expect([refused.code, refused.message]).toEqual([
      "PRECONDITION_FAILED",
      "This invitation to Acme test was withdrawn by its tenant admins; ask one of them to invite you again.",
    ]);
    expect(await membershipOf(p.id)).toBeUndefined();
    const twice = await failure(admin.invitations.revoke({ tenant: fx.tenant.slug, id: inv.id }));
    expect([twice.code, twice.message]).toEqual(["PRECONDITION_FAILED", `The invitation of ${p.email} was already revoked; there is nothing to revoke.`]);
    const audits = await fx.db
      .select()
      .from(s.auditEvents)
      .where(and(eq(s.auditEvents.targetId, inv.id), eq(s.auditEvents.action, "invitation.revoke")));
    expect(audits).toEqual([expect.objectContaining({ actorUserId: fx.principals.tenantAdmin.userId })]);
  });

  it("refuses an expired invitation with its date, shows it expired to the admins, and lets the address be invited again", async () => {
    const p = await person();
    const inv = await invite(p.email);
    const expiresAt = new Date(Date.now() - DAY);
    await fx.db
      .update(s.tenantInvitations)
      .set({ createdAt: new Date(Date.now() - 8 * DAY), expiresAt })
      .where(eq(s.tenantInvitations.id, inv.id));
    expect((await p.caller.invitations.mine()).items).toEqual([]);
    const refused = await failure(p.caller.invitations.accept({ id: inv.id }));
    expect([refused.code, refused.message]).toEqual([
      "PRECONDITION_FAILED",
      `This invitation to Acme test expired on ${expiresAt.toISOString().slice(0, 10)}; ask one of its tenant admins to invite you again.`,
    ]);
    expect((await failure(p.caller.invitations.decline({ id: inv.id }))).code).toBe("PRECONDITION_FAILED");
    expect(await membershipOf(p.id)).toBeUndefined();
    const listed = (await callerAs(fx, "tenantAdmin").invitations.list({ tenant: fx.tenant.slug })).items.find((i) => i.id === inv.id);
    expect(listed?.status).toBe("expired");

    const again = await invite(p.email);
    expect(again.id).not.toBe(inv.id);
    const [old] = await fx.db.select().from(s.tenantInvitations).where(eq(s.tenantInvitations.id, inv.id));
    expect(old?.status).toBe("expired");
    await p.caller.invitations.accept({ id: again.id });
    expect((await membershipOf(p.id))?.role).toBe("tenant-member");
  });

  it("reaches an address invited before it had an account once an operator creates it", async () => {
    const email = `${uniq("later")}@test.local`;
    const inv = await invite(email);
    const created = await callerAs(fx, "operatorAdmin").users.create({ email, name: "Later" });
    const caller = as({ userId: created.user.id, email, name: "Later" });
    expect((await caller.invitations.mine()).items.map((i) => i.id)).toEqual([inv.id]);
    await caller.invitations.accept({ id: inv.id });
    expect((await membershipOf(created.user.id))?.role).toBe("tenant-member");
  });

  it("refuses API tokens: a token scoped to one tenant must not join its user to another", async () => {
    const p = await person({ platformRole: null, tenantId: fx.otherTenant.id, tenantRole: "tenant-member" });
    const inv = await invite(p.email);
    for (const call of [p.caller.invitations.mine(), p.caller.invitations.accept({ id: inv.id }), p.caller.invitations.decline({ id: inv.id })]) {
      const e = await failure(call);
      expect([e.code, e.message]).toEqual(["FORBIDDEN", "API tokens can't answer invitations; sign in to the console to do this."]);
    }
    expect(await membershipOf(p.id)).toBeUndefined();
  });

  it("does not keep a tenant from being deleted; its invitations go with it", async () => {
    const op = callerAs(fx, "operatorAdmin");
    const t = await op.tenants.create({ slug: uniq("inv"), name: "Invites" });
    const a = await op.tenants.addMember({ id: t.id, email: `${uniq("a")}@test.local`, name: "A", role: "tenant-admin" });
    const p = await person();
    await as({ userId: a.user.id, email: a.user.email, name: "A" }).members.add({ tenant: t.slug, email: p.email });
    await op.tenants.delete({ id: t.id });
    expect(await fx.db.select().from(s.tenantInvitations).where(eq(s.tenantInvitations.tenantId, t.id))).toEqual([]);
    expect((await p.caller.invitations.mine()).items).toEqual([]);
  });
});
