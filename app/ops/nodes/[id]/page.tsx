// Operator console: one node (host or DPU) with its actions, inventory, DPUs, events and operations.
import { notFound } from "next/navigation";
import { NodeDetailPage } from "@/components/nodes/node-detail";
import { NodeEvents } from "@/components/nodes/node-events";

export const metadata = { title: "Node" };

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export default async function Page({ params }: { params: Promise<{ id: string }> }) {
  const { id } = await params;
  // A malformed id can name no node: the not-found page, not a validation error from the API.
  if (!UUID.test(id)) notFound();
  return (
    <>
      <NodeDetailPage id={id} />
      <NodeEvents nodeId={id} />
    </>
  );
}
