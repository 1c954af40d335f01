// Operator console: every tenant's instances with their hosts and latest operations (components/instances/ops-instances-page.tsx).
import { OpsInstancesPage } from "@/components/instances/ops-instances-page";
import { getViewer } from "@/server/auth/session";

export const metadata = { title: "Instances" };

export default async function Page() {
  const v = await getViewer();
  return <OpsInstancesPage canAct={v?.platformRole === "operator-admin"} />;
}
