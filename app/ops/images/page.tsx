// Operator console: Images (not built yet — says so plainly, shows no fake data).
import { NotBuiltYet } from "@/components/ui/page";

export const metadata = { title: "Images" };

export default function Page() {
  return <NotBuiltYet title="Images" what="System-disk images (upload, clone, visibility) come with the storage work." />;
}
