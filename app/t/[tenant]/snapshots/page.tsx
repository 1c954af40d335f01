// Tenant portal: Snapshots (components/storage/snapshots-page.tsx); the first page is prefetched on the server.
import { SnapshotsPage } from "@/components/storage/snapshots-page";
import { tenantListPage } from "../membership";

export const metadata = { title: "Snapshots" };

export default tenantListPage(
  (trpc, m) => trpc.snapshots.list.queryOptions({ tenant: m.slug, cursor: null }),
  (m) => <SnapshotsPage tenant={m.slug} />,
);
