// Tenant portal: Instances (not built yet — says so plainly, shows no fake data).
import { NotBuiltYet } from "@/components/ui/page";

export const metadata = { title: "Instances" };

export default function Page() {
  return <NotBuiltYet title="Instances" what="Self-provisioned bare-metal servers come with the provisioning work." />;
}
