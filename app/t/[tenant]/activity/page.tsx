// Tenant portal: Activity — the tenant's audit log and operations (components/activity/activity-page.tsx).
import { ActivityPage } from "@/components/activity/activity-page";
import { membershipOf } from "../membership";

export const metadata = { title: "Activity" };

export default async function Page({ params, searchParams }: { params: Promise<{ tenant: string }>; searchParams: Promise<{ tab?: string | string[] }> }) {
  const m = await membershipOf(params);
  const { tab } = await searchParams;
  return <ActivityPage tenant={m.slug} tenantName={m.name} initialTab={tab === "operations" ? "operations" : "log"} />;
}
