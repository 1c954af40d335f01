// Tenant portal: Snapshots (components/storage/snapshots-page.tsx).
import { notFound } from "next/navigation";
import { SnapshotsPage } from "@/components/storage/snapshots-page";
import { getViewer } from "@/server/auth/session";

export const metadata = { title: "Snapshots" };

export default async function Page({ params }: { params: Promise<{ tenant: string }> }) {
  const { tenant } = await params;
  const m = (await getViewer())?.tenants.find((t) => t.slug === tenant);
  if (!m) notFound();
  return <SnapshotsPage tenant={m.slug} />;
}
