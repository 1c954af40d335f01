// Operator console: one tenant (members, quota, suspend/resume, delete). A malformed id is simply not found.
import { notFound } from "next/navigation";
import { TenantDetail } from "@/components/tenancy/tenant-detail";

export const metadata = { title: "Tenant" };

export default async function Page({ params }: { params: Promise<{ id: string }> }) {
  const { id } = await params;
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id)) notFound();
  return <TenantDetail id={id} />;
}
