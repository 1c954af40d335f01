// Operator console: bare-metal pools; the first page is prefetched on the server.
import { PoolsPage } from "@/components/pools/pools-page";
import { Prefetch } from "@/server/api/prefetch";

export const metadata = { title: "Pools" };

export default function Page() {
  return (
    <Prefetch queries={(trpc) => [trpc.pools.list.queryOptions({ sort: "name", dir: "asc", cursor: null })]}>
      <PoolsPage />
    </Prefetch>
  );
}
