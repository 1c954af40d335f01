// Operator console: Nodes (hosts and their DPUs); the first page is prefetched on the server.
import { NodesPage } from "@/components/nodes/nodes-page";
import { Prefetch } from "@/server/api/prefetch";

export const metadata = { title: "Nodes" };

export default function Page() {
  return (
    <Prefetch queries={(trpc) => [trpc.nodes.list.queryOptions({ includeChildren: false, sort: "name", dir: "asc", cursor: null })]}>
      <NodesPage />
    </Prefetch>
  );
}
