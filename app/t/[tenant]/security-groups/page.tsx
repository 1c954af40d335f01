// Tenant portal: Security groups — the tenant's groups across its VPCs (rules on each group's page).
import { notFound } from "next/navigation";
import { SecurityGroupsPage } from "@/components/network/security-groups-page";
import { getViewer } from "@/server/auth/session";

export const metadata = { title: "Security groups" };

export default async function Page({ params }: { params: Promise<{ tenant: string }> }) {
  const { tenant } = await params;
  const m = (await getViewer())?.tenants.find((t) => t.slug === tenant);
  if (!m) notFound();
  return <SecurityGroupsPage tenant={m.slug} />;
}
