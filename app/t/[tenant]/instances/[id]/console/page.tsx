// Tenant console: the serial console of one of the tenant's instances, full height. The WebSocket is opened by
// instance (/api/console/instance/<id>), so it always reaches the host the instance runs on now and the proxy
// checks membership on every connect; the host's name stays operator knowledge.
import { and, eq, ne } from "drizzle-orm";
import { notFound } from "next/navigation";
import { ConsolePage } from "@/components/console/console-page";
import { getDb } from "@/db/client";
import { instances, tenants } from "@/db/schema";

export const metadata = { title: "Console" };

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export default async function Page({ params }: { params: Promise<{ tenant: string; id: string }> }) {
  const { tenant, id } = await params;
  if (!UUID.test(id)) notFound();
  // The tenant layout already admitted only members of this tenant.
  const [row] = await getDb()
    .select({ id: instances.id, name: instances.name, state: instances.state })
    .from(instances)
    .innerJoin(tenants, eq(tenants.id, instances.tenantId))
    .where(and(eq(instances.id, id), eq(tenants.slug, tenant), ne(instances.state, "deleted")));
  if (!row) notFound();
  const back = `/t/${encodeURIComponent(tenant)}/instances/${row.id}`;
  return (
    <ConsolePage
      name={row.name}
      kind={`Instance (${row.state})`}
      back={back}
      backLabel="Back to the instance"
      instanceId={row.id}
      nodeName={row.name}
      returnTo={`${back}/console`}
    />
  );
}
