// Tenant portal: Instances (components/instances/instances-page.tsx); the first page is prefetched on the server.
import { InstancesPage } from "@/components/instances/instances-page";
import { instanceState } from "@/db/schema";
import type { InstanceState } from "@/domain/instance-rules";
import { Prefetch } from "@/server/api/prefetch";
import { membershipOf } from "../membership";

export const metadata = { title: "Instances" };

export default async function Page({ params, searchParams }: { params: Promise<{ tenant: string }>; searchParams: Promise<{ state?: string | string[] }> }) {
  const m = await membershipOf(params);
  const { state } = await searchParams;
  // ?state= from the tenant home's counts; anything else is ignored rather than sent to the server.
  const initialState = instanceState.enumValues.find((s): s is InstanceState => s === state);
  return (
    <Prefetch queries={(trpc) => [trpc.instances.list.queryOptions({ tenant: m.slug, state: initialState, cursor: null })]}>
      <InstancesPage tenant={m.slug} initialState={initialState} />
    </Prefetch>
  );
}
