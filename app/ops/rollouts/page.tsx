// Operator console: rolling DPU OS updates; the first page of rollouts is prefetched on the server.
import { RolloutsPage } from "@/components/rollouts/rollouts-page";
import { Prefetch } from "@/server/api/prefetch";

export const metadata = { title: "Rollouts" };

export default function Page() {
  return (
    <Prefetch queries={(trpc) => [trpc.rollouts.list.queryOptions({ sort: "createdAt", dir: "desc", cursor: null })]}>
      <RolloutsPage />
    </Prefetch>
  );
}
