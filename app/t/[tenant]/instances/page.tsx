// Tenant portal: Instances (components/instances/instances-page.tsx).
import { notFound } from "next/navigation";
import { InstancesPage } from "@/components/instances/instances-page";
import { instanceState } from "@/db/schema";
import type { InstanceState } from "@/domain/instance-rules";
import { getViewer } from "@/server/auth/session";

export const metadata = { title: "Instances" };

export default async function Page({ params, searchParams }: { params: Promise<{ tenant: string }>; searchParams: Promise<{ state?: string | string[] }> }) {
  const { tenant } = await params;
  const { state } = await searchParams;
  const m = (await getViewer())?.tenants.find((t) => t.slug === tenant);
  if (!m) notFound();
  // ?state= from the tenant home's counts; anything else is ignored rather than sent to the server.
  const initialState = instanceState.enumValues.find((s): s is InstanceState => s === state);
  return <InstancesPage tenant={m.slug} initialState={initialState} />;
}
