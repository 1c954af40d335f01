"use client";
// Pieces shared by the tenant home and the Activity page: an operation's status badge, its progress in a line, and
// where a row's target lives in the portal (so every operation and audit row links to what it was about).
import Link from "next/link";
import { Badge, type BadgeTone } from "@/components/ui/badge";

export const UNDER_WAY = new Set(["pending", "running", "cancelling"]);

const statusTone: Record<string, BadgeTone> = {
  pending: "zinc",
  running: "sky",
  cancelling: "amber",
  succeeded: "green",
  failed: "red",
  cancelled: "zinc",
};
export function OperationStatusBadge({ status }: { status: string }) {
  return <Badge tone={statusTone[status] ?? "zinc"}>{status}</Badge>;
}

/** "step 3 of 7: attach boot disk" while under way; nothing once it ended. */
export function OperationStep({ op }: { op: { status: string; currentStep: string | null; stepsDone: number; stepsTotal: number } }) {
  if (!UNDER_WAY.has(op.status)) return null;
  const of = op.stepsTotal ? `${Math.min(op.stepsDone + 1, op.stepsTotal)} of ${op.stepsTotal}` : null;
  return (
    <span className="text-xs text-zinc-500">
      {of ? `step ${of}` : "starting"}
      {op.currentStep ? `: ${op.currentStep}` : null}
    </span>
  );
}

/** The portal page of a row's target, when it has one. */
export function targetHref(tenant: string, targetType: string, targetId: string | null): string | null {
  const base = `/t/${encodeURIComponent(tenant)}`;
  switch (targetType) {
    case "instance":
      return targetId ? `${base}/instances/${targetId}` : `${base}/instances`;
    case "volume":
      return `${base}/volumes`;
    case "snapshot":
      return `${base}/snapshots`;
    case "vpc":
      return targetId ? `${base}/networks/${targetId}` : `${base}/networks`;
    case "subnet":
    case "port":
      return `${base}/networks`;
    case "security_group":
      return targetId ? `${base}/security-groups/${targetId}` : `${base}/security-groups`;
    case "user":
      return `${base}/members`;
    case "tenant":
      return base;
    default:
      return null;
  }
}

/** The target's name, linked to its page when it has one. */
export function TargetLink({
  tenant,
  targetType,
  targetId,
  targetName,
}: {
  tenant: string;
  targetType: string;
  targetId: string | null;
  targetName: string | null;
}) {
  const href = targetHref(tenant, targetType, targetId);
  const name = targetName ?? targetId ?? targetType;
  return (
    <span>
      <span className="text-zinc-500">{targetType}</span>{" "}
      {href ? (
        <Link href={href} className="font-medium text-sky-700 hover:underline dark:text-sky-400">
          {name}
        </Link>
      ) : (
        <span className="font-medium">{name}</span>
      )}
    </span>
  );
}

export function When({ at }: { at: Date | string }) {
  const d = new Date(at);
  return (
    <time dateTime={d.toISOString()} title={d.toLocaleString()}>
      {d.toLocaleString()}
    </time>
  );
}
