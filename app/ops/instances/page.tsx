// Operator console: every tenant's instances with their hosts and latest operations (components/instances/ops-instances-page.tsx);
// the first page is prefetched on the server.
import { OpsInstancesPage } from "@/components/instances/ops-instances-page";
import { Prefetch } from "@/server/api/prefetch";
import { getViewer } from "@/server/auth/session";

export const metadata = { title: "Instances" };

export default async function Page() {
  const v = await getViewer();
  return (
    <Prefetch queries={(trpc) => [trpc.instances.adminList.queryOptions({ cursor: null })]}>
      <OpsInstancesPage canAct={v?.platformRole === "operator-admin"} />
    </Prefetch>
  );
}
