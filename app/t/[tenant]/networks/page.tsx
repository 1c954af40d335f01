// Tenant portal: Networks — the tenant's VPCs (subnets live on each VPC's page); the first page is prefetched on the server.
import { VpcsPage } from "@/components/network/vpcs-page";
import { tenantListPage } from "../membership";

export const metadata = { title: "Networks" };

export default tenantListPage(
  (trpc, m) => trpc.vpcs.list.queryOptions({ tenant: m.slug, cursor: null }),
  (m) => <VpcsPage tenant={m.slug} role={m.role} />,
);
