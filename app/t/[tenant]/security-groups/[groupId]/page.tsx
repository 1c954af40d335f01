// Tenant portal: one security group and its rules editor. Another tenant's group (or a malformed id) is the
// not-found page, exactly like one that does not exist.
import { and, eq } from "drizzle-orm";
import { notFound } from "next/navigation";
import { z } from "zod";
import { getDb } from "@/db/client";
import { securityGroups } from "@/db/schema";
import { SecurityGroupDetail } from "@/components/network/security-group-detail";
import { getViewer } from "@/server/auth/session";

export const metadata = { title: "Security group" };

export default async function Page({ params }: { params: Promise<{ tenant: string; groupId: string }> }) {
  const { tenant, groupId } = await params;
  const m = (await getViewer())?.tenants.find((t) => t.slug === tenant);
  if (!m || !z.uuid().safeParse(groupId).success) notFound();
  const [row] = await getDb()
    .select({ id: securityGroups.id })
    .from(securityGroups)
    .where(and(eq(securityGroups.id, groupId), eq(securityGroups.tenantId, m.id)));
  if (!row) notFound();
  return <SecurityGroupDetail tenant={m.slug} groupId={row.id} />;
}
