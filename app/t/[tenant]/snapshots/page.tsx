// Tenant portal: Snapshots (not built yet — says so plainly, shows no fake data).
import { NotBuiltYet } from "@/components/ui/page";

export const metadata = { title: "Snapshots" };

export default function Page() {
  return <NotBuiltYet title="Snapshots" what="Snapshots and backups come with the storage work." />;
}
