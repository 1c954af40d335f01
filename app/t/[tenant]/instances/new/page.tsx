// Tenant portal: create an instance (components/instances/instance-create.tsx).
import { InstanceCreateForm } from "@/components/instances/instance-create";
import { membershipOf } from "../../membership";

export const metadata = { title: "Create instance" };

export default async function Page({ params }: { params: Promise<{ tenant: string }> }) {
  const m = await membershipOf(params);
  return <InstanceCreateForm tenant={m.slug} />;
}
