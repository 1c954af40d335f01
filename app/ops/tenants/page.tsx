// Operator console: tenants (list, create; each row opens the tenant's detail).
import { TenantsPage } from "@/components/tenancy/tenants-page";

export const metadata = { title: "Tenants" };

export default function Page() {
  return <TenantsPage />;
}
