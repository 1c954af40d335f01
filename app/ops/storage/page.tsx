// Operator console: Storage (not built yet — says so plainly, shows no fake data).
import { NotBuiltYet } from "@/components/ui/page";

export const metadata = { title: "Storage" };

export default function Page() {
  return <NotBuiltYet title="Storage" what="Disk pools, logical pools, volumes and targets of the distributed storage come with the storage work." />;
}
