// Tenant portal: Security groups (not built yet — says so plainly, shows no fake data).
import { NotBuiltYet } from "@/components/ui/page";

export const metadata = { title: "Security groups" };

export default function Page() {
  return <NotBuiltYet title="Security groups" what="Security groups and rules come with the networking work." />;
}
