// Operator console: Nodes (hosts and their DPUs).
import { NodesPage } from "@/components/nodes/nodes-page";

export const metadata = { title: "Nodes" };

export default function Page() {
  return <NodesPage />;
}
