// Tenant portal: Security groups — the tenant's groups across its VPCs (rules on each group's page); the first page
// is prefetched on the server.
import { SecurityGroupsPage } from "@/components/network/security-groups-page";
import { tenantListPage } from "../membership";

export const metadata = { title: "Security groups" };

export default tenantListPage(
  (trpc, m) => trpc.securityGroups.list.queryOptions({ tenant: m.slug, cursor: null }),
  (m) => <SecurityGroupsPage tenant={m.slug} />,
);
