// Demo data for a first start: two pools, two tenants, operator admin + viewer, a tenant admin and a tenant
// member per tenant, and one user who belongs to both tenants (to show tenant switching). Runs only on an
// empty database. Users are created with better-auth's own password hashing (scrypt).
import { hashPassword } from "better-auth/crypto";
import { sql } from "drizzle-orm";
import type { Db } from "./client";
import * as s from "./schema";

export const DEMO_PASSWORD = "anvil-demo-pass";

export interface DemoUser {
  email: string;
  name: string;
  platformRole?: "operator-admin" | "operator-viewer";
  tenants?: { slug: string; role: "tenant-admin" | "tenant-member" }[];
  label: string;
}

export const demoUsers: DemoUser[] = [
  { email: "admin@anvil.local", name: "Ada Admin", platformRole: "operator-admin", label: "operator admin" },
  { email: "viewer@anvil.local", name: "Vic Viewer", platformRole: "operator-viewer", label: "operator viewer" },
  { email: "alice@acme.example", name: "Alice Acme", tenants: [{ slug: "acme", role: "tenant-admin" }], label: "Acme tenant admin" },
  { email: "bob@acme.example", name: "Bob Acme", tenants: [{ slug: "acme", role: "tenant-member" }], label: "Acme tenant member" },
  { email: "carol@globex.example", name: "Carol Globex", tenants: [{ slug: "globex", role: "tenant-admin" }], label: "Globex tenant admin" },
  { email: "dave@globex.example", name: "Dave Globex", tenants: [{ slug: "globex", role: "tenant-member" }], label: "Globex tenant member" },
  {
    email: "erin@example.com",
    name: "Erin Both",
    tenants: [
      { slug: "acme", role: "tenant-member" },
      { slug: "globex", role: "tenant-member" },
    ],
    label: "member of both tenants",
  },
];

export const demoTenants = [
  { slug: "acme", name: "Acme Corp" },
  { slug: "globex", name: "Globex" },
];

export const demoPools = [
  { name: "general", description: "General-purpose hosts with BlueField-3 DPUs", resourceClass: "bm.standard" },
  { name: "gpu", description: "GPU hosts with BlueField-3 DPUs", resourceClass: "bm.gpu" },
];

/** Creates a user with a password the way better-auth expects it (users + a "credential" account). */
export async function createUserWithPassword(
  db: Db,
  u: { email: string; name: string; password: string; platformRole?: "operator-admin" | "operator-viewer" | null },
): Promise<string> {
  const id = crypto.randomUUID();
  const hash = await hashPassword(u.password);
  await db.transaction(async (tx) => {
    await tx.insert(s.users).values({ id, email: u.email.toLowerCase(), name: u.name, platformRole: u.platformRole ?? null, emailVerified: true });
    await tx.insert(s.accounts).values({ id: crypto.randomUUID(), accountId: id, providerId: "credential", userId: id, password: hash });
  });
  return id;
}

/** Seeds the demo data if the database has no users yet. Returns true when it seeded. */
export async function seedIfEmpty(db: Db): Promise<boolean> {
  return db.transaction(async (tx) => {
    await tx.execute(sql`select pg_advisory_xact_lock(724243)`);
    const [{ n }] = (await tx.select({ n: sql<number>`count(*)::int` }).from(s.users)) as [{ n: number }];
    if (n > 0) return false;
    const tenantIds = new Map<string, string>();
    for (const t of demoTenants) {
      const [row] = await tx.insert(s.tenants).values(t).returning();
      tenantIds.set(t.slug, row!.id);
    }
    for (const p of demoPools) await tx.insert(s.pools).values(p);
    const hash = await hashPassword(DEMO_PASSWORD);
    for (const u of demoUsers) {
      const id = crypto.randomUUID();
      await tx.insert(s.users).values({ id, email: u.email, name: u.name, platformRole: u.platformRole ?? null, emailVerified: true });
      await tx.insert(s.accounts).values({ id: crypto.randomUUID(), accountId: id, providerId: "credential", userId: id, password: hash });
      for (const m of u.tenants ?? []) await tx.insert(s.memberships).values({ tenantId: tenantIds.get(m.slug)!, userId: id, role: m.role });
    }
    await tx.insert(s.auditEvents).values({ action: "system.seed", targetType: "system", targetName: "demo data", details: { users: demoUsers.length } });
    return true;
  });
}
