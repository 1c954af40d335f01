// Tenant portal: SSH keys (not built yet — says so plainly, shows no fake data).
import { NotBuiltYet } from "@/components/ui/page";

export const metadata = { title: "SSH keys" };

export default function Page() {
  return <NotBuiltYet title="SSH keys" what="Your SSH keys come with the tenancy work." />;
}
