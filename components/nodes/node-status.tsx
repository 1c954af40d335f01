"use client";
// Node vocabulary shared by the hardware pages: the row types (inferred from the routers, so a server change
// is a type error here), the status badges, the caller's permission to change things, and how often lists
// refresh so state changes appear without a reload.
import { useQuery } from "@tanstack/react-query";
import type { inferRouterOutputs } from "@trpc/server";
import { useTRPC } from "@/components/trpc";
import { Badge, type BadgeTone } from "@/components/ui/badge";
import { operatorCan, reasonOf } from "@/domain/roles";
import type { AppRouter } from "@/server/api/root";

type Out = inferRouterOutputs<AppRouter>;
export type NodeListRow = Out["nodes"]["list"]["items"][number];
export type NodeDetail = Out["nodes"]["get"];
export type NodeChild = NodeDetail["children"][number];
export type Allowed = NodeDetail["allowed"];
export type BulkResult = Out["nodes"]["power"][number];
export type EventRow = Out["events"]["list"]["items"][number];
export type Operation = Out["operations"]["get"];

/** Lists and detail poll this often while the tab is visible (TanStack Query pauses in the background). */
export const LIVE_MS = 2500;

/** Null when the caller may change hardware; otherwise why not (viewers see buttons, disabled with this). */
export function useChangeReason(): string | null {
  const trpc = useTRPC();
  const me = useQuery(trpc.session.me.queryOptions());
  if (!me.data) return "Loading your permissions…";
  return reasonOf(operatorCan.change(me.data.platformRole));
}

/** The verdict for one action, as a disabledReason (null when allowed). */
export function reasonFor(allowed: Allowed | undefined, action: string): string | null {
  const v = allowed?.[action];
  if (!v) return "Loading…";
  return v.ok ? null : (v.reason ?? "Not allowed now.");
}

const powerTone: Record<string, BadgeTone> = { on: "green", off: "zinc", powering_on: "sky", powering_off: "sky", unknown: "amber" };
export function PowerBadge({ power }: { power: string }) {
  return (
    <Badge tone={powerTone[power] ?? "zinc"} title={`Power: ${power}`}>
      <span aria-hidden className="size-1.5 rounded-full bg-current" />
      {power.replace("_", " ")}
    </Badge>
  );
}

const healthTone: Record<string, BadgeTone> = { ok: "green", warning: "amber", critical: "red", unknown: "zinc" };
export function HealthBadge({ health }: { health: string }) {
  return (
    <Badge tone={healthTone[health] ?? "zinc"} title={`Health: ${health}`}>
      {health === "ok" ? "healthy" : health}
    </Badge>
  );
}

const stateTone: Record<string, BadgeTone> = {
  enroll: "zinc",
  verifying: "sky",
  manageable: "violet",
  inspecting: "sky",
  available: "green",
  deploying: "sky",
  active: "green",
  deleting: "sky",
  cleaning: "sky",
  error: "red",
  rescue: "amber",
};
export function StateBadge({ state }: { state: string }) {
  return (
    <Badge tone={stateTone[state] ?? "zinc"} title={`State: ${state}`}>
      {state}
    </Badge>
  );
}

export function FaultBadge({ fault }: { fault: string | null }) {
  if (!fault) return null;
  return (
    <Badge tone="red" title={`Fault: ${fault}`}>
      fault
    </Badge>
  );
}

export function MaintenanceBadge({ on, reason }: { on: boolean; reason?: string | null }) {
  if (!on) return null;
  return (
    <Badge tone="amber" title={`Maintenance: ${reason ?? "no reason given"}`}>
      maintenance
    </Badge>
  );
}

const sevTone: Record<string, BadgeTone> = { info: "sky", ok: "green", warning: "amber", critical: "red" };
export function SeverityBadge({ severity }: { severity: string }) {
  return <Badge tone={sevTone[severity] ?? "zinc"}>{severity}</Badge>;
}

/** "3 min ago"-style text for heartbeats and last-seen times; the exact time is in the title. */
export function Ago({ at }: { at: Date | string | null | undefined }) {
  if (!at) return <span className="text-zinc-500">never</span>;
  const d = new Date(at);
  const s = Math.max(0, Math.round((Date.now() - d.getTime()) / 1000));
  const text = s < 60 ? `${s} s ago` : s < 3600 ? `${Math.floor(s / 60)} min ago` : s < 86400 ? `${Math.floor(s / 3600)} h ago` : d.toLocaleDateString();
  return (
    <time dateTime={d.toISOString()} title={d.toLocaleString()}>
      {text}
    </time>
  );
}
