// Tenant portal home: what failed, instances by state, quota and recent operations (components/activity/tenant-home.tsx).
import { TenantHome } from "@/components/activity/tenant-home";
import { PageHeader } from "@/components/ui/page";
import { membershipOf } from "./membership";

export const metadata = { title: "Overview" };

export default async function TenantOverview({ params }: { params: Promise<{ tenant: string }> }) {
  const m = await membershipOf(params);
  return (
    <div>
      <PageHeader title={m.name} description={`You are ${m.role === "tenant-admin" ? "an admin" : "a member"} of this tenant.`} />
      <TenantHome tenant={m.slug} />
    </div>
  );
}
