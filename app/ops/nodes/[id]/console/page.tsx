// Operator console: a node's serial console, full height (the xterm.js view on the console WebSocket).
import { eq } from "drizzle-orm";
import { notFound } from "next/navigation";
import { ConsolePage } from "@/components/console/console-page";
import { getDb } from "@/db/client";
import { nodes } from "@/db/schema";

export const metadata = { title: "Console" };

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export default async function Page({ params }: { params: Promise<{ id: string }> }) {
  const { id } = await params;
  if (!UUID.test(id)) notFound();
  // The ops layout already admitted only operators; the WebSocket checks again on its own.
  const [node] = await getDb().select({ id: nodes.id, name: nodes.name, kind: nodes.kind }).from(nodes).where(eq(nodes.id, id));
  if (!node) notFound();
  return (
    <ConsolePage
      name={node.name}
      kind={node.kind === "dpu" ? "DPU" : "Host"}
      back={`/ops/nodes/${node.id}`}
      backLabel="Back to the node"
      nodeId={node.id}
      nodeName={node.name}
    />
  );
}
