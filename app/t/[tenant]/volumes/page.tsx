// Tenant portal: Volumes (components/storage/volumes-page.tsx).
import { notFound } from "next/navigation";
import { VolumesPage } from "@/components/storage/volumes-page";
import { getViewer } from "@/server/auth/session";

export const metadata = { title: "Volumes" };

export default async function Page({ params }: { params: Promise<{ tenant: string }> }) {
  const { tenant } = await params;
  const m = (await getViewer())?.tenants.find((t) => t.slug === tenant);
  if (!m) notFound();
  return <VolumesPage tenant={m.slug} />;
}
