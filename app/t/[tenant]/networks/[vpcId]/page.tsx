// Tenant portal: one VPC with its subnets and ports. A VPC that is not this tenant's (or a malformed id) is the
// not-found page, exactly like one that does not exist.
import { and, eq } from "drizzle-orm";
import { notFound } from "next/navigation";
import { z } from "zod";
import { getDb } from "@/db/client";
import { vpcs } from "@/db/schema";
import { VpcDetail } from "@/components/network/vpc-detail";
import { getViewer } from "@/server/auth/session";

export const metadata = { title: "VPC" };

export default async function Page({ params }: { params: Promise<{ tenant: string; vpcId: string }> }) {
  const { tenant, vpcId } = await params;
  const m = (await getViewer())?.tenants.find((t) => t.slug === tenant);
  if (!m || !z.uuid().safeParse(vpcId).success) notFound();
  const [row] = await getDb()
    .select({ id: vpcs.id })
    .from(vpcs)
    .where(and(eq(vpcs.id, vpcId), eq(vpcs.tenantId, m.id)));
  if (!row) notFound();
  return <VpcDetail tenant={m.slug} vpcId={row.id} />;
}
