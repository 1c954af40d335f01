"use client";
// How a node's hardware events arrive, beside its event log: a live stream from its BMC (SSE), pushed by its BMC to
// Anvil (a Redfish event subscription), or polling alone — so an operator knows how soon a fault on it will show.
import { useQuery } from "@tanstack/react-query";
import { useTRPC } from "@/components/trpc";
import { Badge, type BadgeTone } from "@/components/ui/badge";

const SHOWN: Record<"sse" | "push" | "polling", { label: string; tone: BadgeTone; title: (pollSeconds: number) => string }> = {
  sse: { label: "live stream (SSE)", tone: "green", title: () => "Anvil holds the BMC's event stream open; a fault shows within a second." },
  push: {
    label: "pushed by the BMC",
    tone: "green",
    title: () => "The BMC posts its events to Anvil (a Redfish event subscription); a fault shows within a second.",
  },
  polling: {
    label: "polling",
    tone: "zinc",
    title: (s) => `The BMC offers no live events to Anvil (or none are set up yet); faults show at the next poll, every ${s} s.`,
  },
};

export function EventDelivery({ nodeId }: { nodeId: string }) {
  const trpc = useTRPC();
  const q = useQuery({ ...trpc.eventDelivery.get.queryOptions({ id: nodeId }), refetchInterval: 30_000 });
  if (!q.data) return null;
  const shown = SHOWN[q.data.delivery];
  return (
    <p className="mb-3 flex items-center gap-2 text-sm text-zinc-600 dark:text-zinc-400">
      Events arrive by
      <Badge tone={shown.tone} title={shown.title(q.data.pollSeconds)}>
        {shown.label}
      </Badge>
    </p>
  );
}
