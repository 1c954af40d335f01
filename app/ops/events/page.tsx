// Operator console: Events (not built yet — says so plainly, shows no fake data).
import { NotBuiltYet } from "@/components/ui/page";

export const metadata = { title: "Events" };

export default function Page() {
  return <NotBuiltYet title="Events" what="Hardware events (SEL entries, power and health changes, lost agent heartbeats) come with the hardware-management work." />;
}
