// Tenant portal: Activity — the tenant's audit log and operations (components/activity/activity-page.tsx).
import { notFound } from "next/navigation";
import { ActivityPage } from "@/components/activity/activity-page";
import { getViewer } from "@/server/auth/session";

export const metadata = { title: "Activity" };

export default async function Page({ params, searchParams }: { params: Promise<{ tenant: string }>; searchParams: Promise<{ tab?: string | string[] }> }) {
  const { tenant } = await params;
  const { tab } = await searchParams;
  const m = (await getViewer())?.tenants.find((t) => t.slug === tenant);
  if (!m) notFound();
  return <ActivityPage tenant={m.slug} tenantName={m.name} initialTab={tab === "operations" ? "operations" : "log"} />;
}
