// Tenant portal: create an instance (components/instances/instance-create.tsx).
import { notFound } from "next/navigation";
import { InstanceCreateForm } from "@/components/instances/instance-create";
import { getViewer } from "@/server/auth/session";

export const metadata = { title: "Create instance" };

export default async function Page({ params }: { params: Promise<{ tenant: string }> }) {
  const { tenant } = await params;
  const m = (await getViewer())?.tenants.find((t) => t.slug === tenant);
  if (!m) notFound();
  return <InstanceCreateForm tenant={m.slug} />;
}
