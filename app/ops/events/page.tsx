// Operator console: hardware events (?node=<id> narrows to one node and its DPUs).
import { EventsPage } from "@/components/events/events-page";

export const metadata = { title: "Events" };

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export default async function Page({ searchParams }: { searchParams: Promise<Record<string, string | string[] | undefined>> }) {
  const sp = await searchParams;
  const node = typeof sp.node === "string" && UUID.test(sp.node) ? sp.node : undefined;
  return <EventsPage key={node ?? "all"} nodeId={node} />;
}
