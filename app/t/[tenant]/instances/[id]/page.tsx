// Tenant portal: one instance (components/instances/instance-detail.tsx).
import { notFound } from "next/navigation";
import { InstanceDetail } from "@/components/instances/instance-detail";
import { membershipOf } from "../../membership";

export const metadata = { title: "Instance" };

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export default async function Page({ params }: { params: Promise<{ tenant: string; id: string }> }) {
  const m = await membershipOf(params);
  const { id } = await params;
  if (!UUID.test(id)) notFound();
  return <InstanceDetail tenant={m.slug} id={id} />;
}
