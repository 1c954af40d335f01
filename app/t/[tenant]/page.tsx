// Tenant portal home: what failed, instances by state, quota and recent operations (components/activity/tenant-home.tsx).
import { notFound } from "next/navigation";
import { TenantHome } from "@/components/activity/tenant-home";
import { PageHeader } from "@/components/ui/page";
import { getViewer } from "@/server/auth/session";

export const metadata = { title: "Overview" };

export default async function TenantOverview({ params }: { params: Promise<{ tenant: string }> }) {
  const { tenant } = await params;
  const v = await getViewer();
  const m = v?.tenants.find((t) => t.slug === tenant);
  if (!m) notFound();
  return (
    <div>
      <PageHeader title={m.name} description={`You are ${m.role === "tenant-admin" ? "an admin" : "a member"} of this tenant.`} />
      <TenantHome tenant={m.slug} />
    </div>
  );
}
