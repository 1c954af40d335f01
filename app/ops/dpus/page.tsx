// Operator console: DPUs (not built yet — says so plainly, shows no fake data).
import { NotBuiltYet } from "@/components/ui/page";

export const metadata = { title: "DPUs" };

export default function Page() {
  return <NotBuiltYet title="DPUs" what="The DPU list (host, mode, firmware and OS versions, agent heartbeat) comes with the hardware-management work." />;
}
