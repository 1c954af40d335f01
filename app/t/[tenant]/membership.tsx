// What every /t/<tenant>/… page checks first: the signed-in person's membership of the tenant the URL names (the
// layout has admitted them already; a page still reads it for the slug, name and role), and for a detail page,
// that the id names a row of this tenant. Anything else is the not-found page, like a tenant or row that does not
// exist (existence does not leak). A tenant list page is its membership check, the first page prefetched on the
// server (server/api/prefetch.tsx) and the list's component.
import "server-only";
import { and, eq } from "drizzle-orm";
import type { PgColumn, PgTable } from "drizzle-orm/pg-core";
import { notFound } from "next/navigation";
import { z } from "zod";
import { getDb } from "@/db/client";
import { type AnyQuery, Prefetch, type ServerTrpc } from "@/server/api/prefetch";
import { getViewer, type Viewer } from "@/server/auth/session";

export type Membership = Viewer["tenants"][number];

export async function membershipOf(params: Promise<{ tenant: string }>): Promise<Membership> {
  const { tenant } = await params;
  const m = (await getViewer())?.tenants.find((t) => t.slug === tenant);
  if (!m) notFound();
  return m;
}

/** The id of the tenant's row `id` names in `table` (a malformed id, another tenant's row: not found). */
export async function tenantRowId(table: PgTable & { id: PgColumn; tenantId: PgColumn }, m: Membership, id: string): Promise<string> {
  if (!z.uuid().safeParse(id).success) notFound();
  const [row] = await getDb()
    .select({ id: table.id })
    .from(table)
    .where(and(eq(table.id, id), eq(table.tenantId, m.id)));
  if (!row) notFound();
  return row.id as string;
}

/** A /t/<tenant>/… list page (its module's default export, made once when the module loads): `query` is the list's
 *  first page as the component asks for it (cursor null). */
export function tenantListPage(query: (trpc: ServerTrpc, m: Membership) => AnyQuery, render: (m: Membership) => React.ReactNode) {
  // biome-ignore lint/correctness/noComponentHookFactories: called once at module scope by each page file, never during a render
  return async function Page({ params }: { params: Promise<{ tenant: string }> }) {
    const m = await membershipOf(params);
    return <Prefetch queries={(trpc) => [query(trpc, m)]}>{render(m)}</Prefetch>;
  };
}
