// Tenant portal: one instance (components/instances/instance-detail.tsx).
import { notFound } from "next/navigation";
import { InstanceDetail } from "@/components/instances/instance-detail";
import { getViewer } from "@/server/auth/session";

export const metadata = { title: "Instance" };

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export default async function Page({ params }: { params: Promise<{ tenant: string; id: string }> }) {
  const { tenant, id } = await params;
  const m = (await getViewer())?.tenants.find((t) => t.slug === tenant);
  if (!m || !UUID.test(id)) notFound();
  return <InstanceDetail tenant={m.slug} id={id} />;
}
