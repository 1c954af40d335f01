// Operator console: Storage (components/storage/ops-storage-page.tsx).
import { OpsStoragePage } from "@/components/storage/ops-storage-page";

export const metadata = { title: "Storage" };

export default function Page() {
  return <OpsStoragePage />;
}
