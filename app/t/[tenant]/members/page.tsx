// Tenant portal: Members (not built yet — says so plainly, shows no fake data).
import { NotBuiltYet } from "@/components/ui/page";

export const metadata = { title: "Members" };

export default function Page() {
  return <NotBuiltYet title="Members" what="Tenant members and their roles come with the tenancy work." />;
}
