// Tenant portal: Floating IPs — public addresses of the operator's provider networks, allocated by the tenant and
// attached to its instances' NICs; the first page is prefetched on the server.
import { FloatingIpsPage } from "@/components/network/floating-ips-page";
import { tenantListPage } from "../membership";

export const metadata = { title: "Floating IPs" };

export default tenantListPage(
  (trpc, m) => trpc.floatingIps.list.queryOptions({ tenant: m.slug, cursor: null }),
  (m) => <FloatingIpsPage tenant={m.slug} />,
);
