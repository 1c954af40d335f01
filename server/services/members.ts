// Tenant membership as the members, tenants (operators) and invitations routers change it: add directly, invite,
// remove, change role, list — with the rules every path keeps (the last tenant admin stays; membership changes are
// serialised per tenant) and the audit row in the caller's transaction.
import { and, count, eq, lte } from "drizzle-orm";
import { z } from "zod";
import type { Db, Tx } from "@/db/client";
import { memberships, sessions, tenantInvitations, tenants, users } from "@/db/schema";
import { columnsOf } from "./rows";
import type { MemberAdd } from "@/db/validation/tenancy";
import { conflict, DomainError, notFound, precondition } from "@/domain/errors";
import { invitationExpiry } from "@/domain/invitations";
import type { Principal } from "@/server/auth/principal";
import { listPage, pageInput } from "@/server/api/pagination";
import { matchesText } from "@/server/lib/like";
import { audit } from "./audit";
import { createUserInTx, temporaryPassword, userUniques } from "./users";

type Ctx = { principal: Principal | null; requestId: string };
type TenantRow = { id: string; name: string; slug: string };
type TenantRole = "tenant-admin" | "tenant-member";

/** Unique violations of a member add (a concurrent add of the same person, or of the same new email). */
export const memberUniques = {
  ...userUniques,
  memberships_tenant_id_user_id_pk: { field: "email", message: "That person is already a member of this tenant." },
  tenant_invitations_pending_uq: { field: "email", message: "This address already has a pending invitation to this tenant." },
};

export const memberColumns = {
  ...columnsOf(users, "id", "email", "name", "disabled"),
  role: memberships.role,
  joinedAt: memberships.createdAt,
};

/** Rule: a tenant always keeps at least one admin. Call with the tenant's membership rows locked. */
async function assertNotLastAdmin(tx: Tx, tenant: TenantRow, userId: string, doing: "remove" | "demote") {
  const admins = await tx
    .select({ userId: memberships.userId })
    .from(memberships)
    .where(and(eq(memberships.tenantId, tenant.id), eq(memberships.role, "tenant-admin")))
    .for("update");
  if (admins.length === 1 && admins[0]!.userId === userId)
    throw precondition(`This is ${tenant.name}'s last tenant admin; make another member an admin before you ${doing === "remove" ? "remove" : "demote"} them.`);
}

/**
 * Serialises membership changes per tenant, so two admins demoting each other at once can't both succeed (and
 * can't deadlock). NO KEY UPDATE does not block inserts elsewhere that reference the tenant.
 */
export async function lockTenantMembers(tx: Tx, tenant: { id: string }) {
  await tx.select({ id: tenants.id }).from(tenants).where(eq(tenants.id, tenant.id)).for("no key update");
}

async function lockMembership(tx: Tx, tenant: TenantRow, userId: string) {
  await lockTenantMembers(tx, tenant);
  const [m] = await tx
    .select({ role: memberships.role, email: users.email })
    .from(memberships)
    .innerJoin(users, eq(users.id, memberships.userId))
    .where(and(eq(memberships.tenantId, tenant.id), eq(memberships.userId, userId)))
    .for("update", { of: memberships });
  if (!m) throw notFound("That person is not a member of this tenant.");
  return m;
}

/** Operators: add a person directly (an existing user, or a new one when a name is given). */
export async function addMemberDirect(tx: Tx, ctx: Ctx, tenant: TenantRow, input: MemberAdd) {
  const [existing] = await tx.select().from(users).where(eq(users.email, input.email));
  let user = existing;
  let password: string | null = null;
  if (!user) {
    if (!input.name)
      throw new DomainError("not_found", "No user has this email. Give a name to invite them (a temporary password will be shown once).", "email");
    password = temporaryPassword();
    user = await createUserInTx(tx, { email: input.email, name: input.name, password, platformRole: null });
  }
  const [already] = await tx
    .select()
    .from(memberships)
    .where(and(eq(memberships.tenantId, tenant.id), eq(memberships.userId, user.id)));
  if (already) throw conflict(`${user.email} is already a member of ${tenant.name}.`, "email");
  await tx.insert(memberships).values({ tenantId: tenant.id, userId: user.id, role: input.role });
  // A pending invitation of the same address is moot now; it must not linger in the invitee's list.
  const closed = await tx
    .update(tenantInvitations)
    .set({ status: "revoked", closedAt: new Date(), closedBy: ctx.principal?.userId ?? null })
    .where(and(eq(tenantInvitations.tenantId, tenant.id), eq(tenantInvitations.email, user.email), eq(tenantInvitations.status, "pending")))
    .returning({ id: tenantInvitations.id });
  await audit(tx, ctx, {
    action: "member.add",
    targetType: "user",
    targetId: user.id,
    targetName: user.email,
    tenantId: tenant.id,
    details: { role: input.role, invited: password !== null, ...(closed.length ? { invitationsClosed: closed.map((c) => c.id) } : {}) },
  });
  return { user: { id: user.id, email: user.email, name: user.name }, role: input.role, invited: password !== null, temporaryPassword: password };
}

/** What a tenant admin learns from inviting: nothing about an account that already exists. */
export type InviteResult =
  | { outcome: "invited"; email: string; role: TenantRole; message: string; temporaryPassword: null }
  | { outcome: "created"; email: string; role: TenantRole; message: string; temporaryPassword: string };

/**
 * Tenant admins: invite an address. An existing account (or an address without one and no name given) gets a pending
 * invitation and no membership, and the answer is the same either way. A name given for an address without an
 * account creates the account (temporary password shown once) and it joins at once — the one answer that differs,
 * unavoidably, since the password must be handed over; a name given for an existing account is ignored.
 * "Already a member" and "already invited" concern this tenant's own people and pending invitations, which its
 * admins see anyway.
 */
export async function inviteMember(tx: Tx, ctx: Ctx, tenant: TenantRow, input: MemberAdd): Promise<InviteResult> {
  await lockTenantMembers(tx, tenant);
  const [member] = await tx
    .select({ userId: memberships.userId })
    .from(memberships)
    .innerJoin(users, eq(users.id, memberships.userId))
    .where(and(eq(memberships.tenantId, tenant.id), eq(users.email, input.email)));
  if (member) throw conflict(`${input.email} is already a member of ${tenant.name}.`, "email");
  const now = new Date();
  // An expired invitation no longer holds the address's one pending slot.
  await tx
    .update(tenantInvitations)
    .set({ status: "expired" })
    .where(
      and(
        eq(tenantInvitations.tenantId, tenant.id),
        eq(tenantInvitations.email, input.email),
        eq(tenantInvitations.status, "pending"),
        lte(tenantInvitations.expiresAt, now),
      ),
    );
  const [pending] = await tx
    .select({ id: tenantInvitations.id })
    .from(tenantInvitations)
    .where(and(eq(tenantInvitations.tenantId, tenant.id), eq(tenantInvitations.email, input.email), eq(tenantInvitations.status, "pending")));
  if (pending) throw conflict(`${input.email} already has a pending invitation to ${tenant.name}; revoke it first to invite them again.`, "email");

  if (input.name) {
    const [account] = await tx.select({ id: users.id }).from(users).where(eq(users.email, input.email));
    if (!account) {
      const password = temporaryPassword();
      const user = await createUserInTx(tx, { email: input.email, name: input.name, password, platformRole: null });
      await tx.insert(memberships).values({ tenantId: tenant.id, userId: user.id, role: input.role });
      await audit(tx, ctx, {
        action: "member.add",
        targetType: "user",
        targetId: user.id,
        targetName: user.email,
        tenantId: tenant.id,
        details: { role: input.role, invited: true },
      });
      return {
        outcome: "created",
        email: user.email,
        role: input.role,
        message: `Account created for ${user.email} and added to ${tenant.name}; give them the temporary password.`,
        temporaryPassword: password,
      };
    }
  }

  const [inv] = await tx
    .insert(tenantInvitations)
    .values({
      tenantId: tenant.id,
      email: input.email,
      role: input.role,
      invitedBy: ctx.principal?.userId ?? null,
      createdAt: now,
      expiresAt: invitationExpiry(now),
    })
    .returning();
  await audit(tx, ctx, {
    action: "invitation.create",
    targetType: "invitation",
    targetId: inv!.id,
    targetName: inv!.email,
    tenantId: tenant.id,
    details: { role: inv!.role, expiresAt: inv!.expiresAt.toISOString() },
  });
  return {
    outcome: "invited",
    email: inv!.email,
    role: input.role,
    message: `Invitation sent to ${inv!.email}; they join when they accept.`,
    temporaryPassword: null,
  };
}

export async function removeMember(tx: Tx, ctx: Ctx, tenant: TenantRow, userId: string) {
  const m = await lockMembership(tx, tenant, userId);
  if (m.role === "tenant-admin") await assertNotLastAdmin(tx, tenant, userId, "remove");
  await tx.delete(memberships).where(and(eq(memberships.tenantId, tenant.id), eq(memberships.userId, userId)));
  // A removed member's portal session must not keep this tenant active.
  await tx
    .update(sessions)
    .set({ activeTenantId: null })
    .where(and(eq(sessions.userId, userId), eq(sessions.activeTenantId, tenant.id)));
  await audit(tx, ctx, { action: "member.remove", targetType: "user", targetId: userId, targetName: m.email, tenantId: tenant.id, details: { role: m.role } });
  return { userId };
}

export async function setMemberRole(tx: Tx, ctx: Ctx, tenant: TenantRow, userId: string, role: TenantRole) {
  const m = await lockMembership(tx, tenant, userId);
  if (m.role === "tenant-admin" && role !== "tenant-admin") await assertNotLastAdmin(tx, tenant, userId, "demote");
  await tx
    .update(memberships)
    .set({ role })
    .where(and(eq(memberships.tenantId, tenant.id), eq(memberships.userId, userId)));
  await audit(tx, ctx, {
    action: "member.set_role",
    targetType: "user",
    targetId: userId,
    targetName: m.email,
    tenantId: tenant.id,
    details: { from: m.role, to: role },
  });
  return { userId, role };
}

export const memberListInput = pageInput.extend({ q: z.string().trim().max(100).optional(), sort: z.enum(["email", "name"]).default("email") });

export async function listMembers(db: Db | Tx, tenantId: string, input: z.infer<typeof memberListInput>) {
  const query = db.select(memberColumns).from(memberships).innerJoin(users, eq(users.id, memberships.userId));
  const order = { sort: { email: users.email, name: users.name }, id: users.id };
  return listPage(query, input, order, eq(memberships.tenantId, tenantId), matchesText(input.q, users.email, users.name));
}

export async function adminCount(db: Db | Tx, tenantId: string): Promise<number> {
  const [row] = await db
    .select({ n: count() })
    .from(memberships)
    .where(and(eq(memberships.tenantId, tenantId), eq(memberships.role, "tenant-admin")));
  return row?.n ?? 0;
}
