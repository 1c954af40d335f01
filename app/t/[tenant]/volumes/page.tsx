// Tenant portal: Volumes (components/storage/volumes-page.tsx); the first page is prefetched on the server.
import { VolumesPage } from "@/components/storage/volumes-page";
import { tenantListPage } from "../membership";

export const metadata = { title: "Volumes" };

export default tenantListPage(
  (trpc, m) => trpc.volumes.list.queryOptions({ tenant: m.slug, cursor: null }),
  (m) => <VolumesPage tenant={m.slug} />,
);
