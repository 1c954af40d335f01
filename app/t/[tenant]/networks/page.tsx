// Tenant portal: Networks (not built yet — says so plainly, shows no fake data).
import { NotBuiltYet } from "@/components/ui/page";

export const metadata = { title: "Networks" };

export default function Page() {
  return <NotBuiltYet title="Networks" what="VPCs and subnets come with the networking work." />;
}
