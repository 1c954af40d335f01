// Tenant portal: Volumes (not built yet — says so plainly, shows no fake data).
import { NotBuiltYet } from "@/components/ui/page";

export const metadata = { title: "Volumes" };

export default function Page() {
  return <NotBuiltYet title="Volumes" what="Your volumes (create, resize, attach) come with the storage work." />;
}
