// Operator console: Nodes (not built yet — says so plainly, shows no fake data).
import { NotBuiltYet } from "@/components/ui/page";

export const metadata = { title: "Nodes" };

export default function Page() {
  return <NotBuiltYet title="Nodes" what="Hosts and their DPUs, enrolled by BMC (Redfish or IPMI), with power, boot, inventory and faults, come with the hardware-management work." />;
}
