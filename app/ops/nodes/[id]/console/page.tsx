// Operator console: a node's serial console, full height (the xterm.js view on the console WebSocket).
import { eq } from "drizzle-orm";
import Link from "next/link";
import { notFound } from "next/navigation";
import { SerialConsole } from "@/components/console/console";
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
    <div className="flex h-[calc(100dvh-7rem)] min-h-96 flex-col gap-3">
      <div className="flex items-baseline gap-3">
        <h1 className="text-2xl font-semibold tracking-tight">
          Console: <span className="font-mono">{node.name}</span>
        </h1>
        <span className="text-sm text-zinc-500">{node.kind === "dpu" ? "DPU" : "Host"}</span>
        <Link href={`/ops/nodes/${node.id}`} className="text-sm text-sky-700 underline dark:text-sky-400">
          Back to the node
        </Link>
      </div>
      <SerialConsole nodeId={node.id} nodeName={node.name} />
    </div>
  );
}
