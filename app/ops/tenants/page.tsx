// Operator console: Tenants (not built yet — says so plainly, shows no fake data).
import { NotBuiltYet } from "@/components/ui/page";

export const metadata = { title: "Tenants" };

export default function Page() {
  return <NotBuiltYet title="Tenants" what="Tenants, users and quotas come with the tenancy work." />;
}
