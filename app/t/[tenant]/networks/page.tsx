// Tenant portal: Networks — the tenant's VPCs (subnets live on each VPC's page).
import { notFound } from "next/navigation";
import { VpcsPage } from "@/components/network/vpcs-page";
import { getViewer } from "@/server/auth/session";

export const metadata = { title: "Networks" };

export default async function Page({ params }: { params: Promise<{ tenant: string }> }) {
  const { tenant } = await params;
  const m = (await getViewer())?.tenants.find((t) => t.slug === tenant);
  if (!m) notFound();
  return <VpcsPage tenant={m.slug} role={m.role} />;
}
