// Tenant portal: Instances (components/instances/instances-page.tsx).
import { notFound } from "next/navigation";
import { InstancesPage } from "@/components/instances/instances-page";
import { getViewer } from "@/server/auth/session";

export const metadata = { title: "Instances" };

export default async function Page({ params }: { params: Promise<{ tenant: string }> }) {
  const { tenant } = await params;
  const m = (await getViewer())?.tenants.find((t) => t.slug === tenant);
  if (!m) notFound();
  return <InstancesPage tenant={m.slug} />;
}
