// Tenant portal overview.
import { notFound } from "next/navigation";
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
      <div className="rounded-lg border border-zinc-200 p-5 text-sm text-zinc-700 dark:border-zinc-800 dark:text-zinc-300">
        <p>
          Servers, volumes and networks of {m.name} will appear here as they are built. Today the portal has no resources to
          show yet: each section in the menu says plainly what it will hold.
        </p>
      </div>
    </div>
  );
}
