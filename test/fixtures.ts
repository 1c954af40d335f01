// Test fixtures: a tenant pair and one principal per role, and a tRPC caller acting as each of them.
import { eq } from "drizzle-orm";
import type { Db } from "../db/client";
import * as s from "../db/schema";
import { createCaller } from "../server/api/root";
import type { Principal } from "../server/auth/principal";
import { uniq } from "./db";

export const roles = ["anonymous", "operatorAdmin", "operatorViewer", "tenantAdmin", "tenantMember", "otherTenantMember"] as const;
export type Role = (typeof roles)[number];

export interface Fixtures {
  db: Db;
  tenant: { id: string; slug: string };
  otherTenant: { id: string; slug: string };
  principals: Record<Exclude<Role, "anonymous">, Principal>;
}

async function user(db: Db, label: string, platformRole: Principal["platformRole"]): Promise<Principal> {
  const id = crypto.randomUUID();
  const email = `${uniq(label)}@test.local`;
  await db.insert(s.users).values({ id, email, name: label, platformRole });
  return { userId: id, email, name: label, platformRole, sessionId: null, tokenScope: null };
}

export async function makeFixtures(db: Db): Promise<Fixtures> {
  const [tenant] = await db
    .insert(s.tenants)
    .values({ slug: uniq("acme"), name: "Acme test" })
    .returning();
  const [otherTenant] = await db
    .insert(s.tenants)
    .values({ slug: uniq("globex"), name: "Globex test" })
    .returning();
  const principals = {
    operatorAdmin: await user(db, "opadmin", "operator-admin"),
    operatorViewer: await user(db, "opviewer", "operator-viewer"),
    tenantAdmin: await user(db, "tadmin", null),
    tenantMember: await user(db, "tmember", null),
    otherTenantMember: await user(db, "other", null),
  };
  await db.insert(s.memberships).values([
    { tenantId: tenant!.id, userId: principals.tenantAdmin.userId, role: "tenant-admin" },
    { tenantId: tenant!.id, userId: principals.tenantMember.userId, role: "tenant-member" },
    { tenantId: otherTenant!.id, userId: principals.otherTenantMember.userId, role: "tenant-admin" },
  ]);
  return { db, tenant: { id: tenant!.id, slug: tenant!.slug }, otherTenant: { id: otherTenant!.id, slug: otherTenant!.slug }, principals };
}

export function callerAs(fx: Fixtures, role: Role) {
  const principal = role === "anonymous" ? null : fx.principals[role];
  return createCaller({ db: fx.db, principal, requestId: `test-${role}`, headers: new Headers() });
}

export async function tenantState(db: Db, id: string, state: "active" | "suspended") {
  await db.update(s.tenants).set({ state }).where(eq(s.tenants.id, id));
}
