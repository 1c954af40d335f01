// Server components' view of the caller: the signed-in user and their tenants (for layouts and redirects).
import "server-only";
import { asc, eq } from "drizzle-orm";
import { headers } from "next/headers";
import { getDb } from "@/db/client";
import { memberships, tenants } from "@/db/schema";
import { getAuth } from "./auth";

export interface Viewer {
  userId: string;
  email: string;
  name: string;
  platformRole: "operator-admin" | "operator-viewer" | null;
  activeTenantId: string | null;
  tenants: { id: string; slug: string; name: string; state: "active" | "suspended"; role: "tenant-admin" | "tenant-member" }[];
}

export async function getViewer(): Promise<Viewer | null> {
  const session = await getAuth().api.getSession({ headers: await headers() });
  if (!session?.user) return null;
  const u = session.user as typeof session.user & { platformRole?: Viewer["platformRole"]; disabled?: boolean };
  if (u.disabled) return null;
  const rows = await getDb()
    .select({ id: tenants.id, slug: tenants.slug, name: tenants.name, state: tenants.state, role: memberships.role })
    .from(memberships)
    .innerJoin(tenants, eq(tenants.id, memberships.tenantId))
    .where(eq(memberships.userId, u.id))
    .orderBy(asc(tenants.name));
  const s = session.session as typeof session.session & { activeTenantId?: string | null };
  return { userId: u.id, email: u.email, name: u.name, platformRole: u.platformRole ?? null, activeTenantId: s.activeTenantId ?? null, tenants: rows };
}

/** Where a signed-in person lands: operators in the console, tenant users in their (last) tenant. */
export function homeOf(v: Viewer): string {
  if (v.platformRole) return "/ops";
  const t = v.tenants.find((x) => x.id === v.activeTenantId) ?? v.tenants[0];
  return t ? `/t/${t.slug}` : "/no-access";
}
