"use client";
// A table of hardware events (time, node, severity, kind, message), used by the Events page and the node
// detail page's "Recent events".
import { TableHead } from "@/components/ui/table-head";
import Link from "next/link";
import { SeverityBadge } from "@/components/nodes/node-status";

export interface EventLike {
  id: string;
  at: Date | string;
  nodeId: string;
  nodeName?: string | null;
  kind: string;
  severity: string;
  message: string;
}

export function EventsTable({ label, rows, empty }: { label: string; rows: EventLike[]; empty: React.ReactNode }) {
  if (!rows.length) return <div className="text-sm text-zinc-500">{empty}</div>;
  return (
    <div className="overflow-x-auto">
      <table aria-label={label} className="w-full text-left text-sm">
        <TableHead columns={["Time", "Node", "Severity", "Kind", "Message"]} tone="plain" cell="py-1.5 pr-4 font-medium" last="py-1.5 font-medium" />
        <tbody className="divide-y divide-zinc-100 dark:divide-zinc-800">
          {rows.map((e) => (
            <EventRowView key={e.id} e={e} />
          ))}
        </tbody>
      </table>
    </div>
  );
}

export function EventRowView({ e }: { e: EventLike }) {
  const at = new Date(e.at);
  return (
    <tr>
      <td className="py-1.5 pr-4 whitespace-nowrap tabular-nums">
        <time dateTime={at.toISOString()}>{at.toLocaleString()}</time>
      </td>
      <td className="py-1.5 pr-4">
        <Link href={`/ops/nodes/${e.nodeId}`} className="whitespace-nowrap text-sky-700 hover:underline dark:text-sky-400">
          {e.nodeName ?? e.nodeId.slice(0, 8)}
        </Link>
      </td>
      <td className="py-1.5 pr-4">
        <SeverityBadge severity={e.severity} />
      </td>
      <td className="py-1.5 pr-4">
        <code className="text-xs">{e.kind}</code>
      </td>
      <td className="py-1.5">{e.message}</td>
    </tr>
  );
}
