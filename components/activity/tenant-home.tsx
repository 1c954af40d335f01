"use client";
// The tenant portal's home: what failed and why (first, when anything did), instances by state (each count opens the
// instances list filtered to that state), the tenant's quota, and its last operations. One query (`activity.home`)
// plus the quota; both refresh every second while anything is under way, every ten seconds otherwise.
import { useQuery } from "@tanstack/react-query";
import Link from "next/link";
import { InstanceStateBadge, TRANSITIONAL } from "@/components/instances/instances-page";
import { UsageMeter } from "@/components/storage/shared";
import { errorInfo, useTRPC } from "@/components/trpc";
import { EmptyState } from "@/components/ui/page";
import { OperationStatusBadge, OperationStep, TargetLink, When } from "./shared";

/** The order states are shown in: the working ones first, then the in-between ones, failures last. */
const STATE_ORDER = ["running", "stopped", "creating", "starting", "stopping", "rebooting", "rebuilding", "recovering", "deleting", "failed"];

const QUOTA_METERS = [
  { key: "instances", label: "Instances" },
  { key: "cores", label: "Cores" },
  { key: "ramGiB", label: "RAM", unit: " GiB" },
  { key: "volumes", label: "Volumes" },
  { key: "volumeGiB", label: "Volume capacity", unit: " GiB" },
  { key: "snapshots", label: "Snapshots" },
  { key: "vpcs", label: "VPCs" },
  { key: "subnets", label: "Subnets" },
  { key: "securityGroups", label: "Security groups" },
  { key: "addresses", label: "Addresses" },
] as const;

const linkCls = "font-medium text-sky-700 hover:underline dark:text-sky-400";

function Section({ id, title, action, children }: { id: string; title: string; action?: React.ReactNode; children: React.ReactNode }) {
  return (
    <section aria-labelledby={id} className="flex flex-col gap-2">
      <div className="flex items-baseline justify-between gap-3">
        <h2 id={id} className="text-lg font-semibold">
          {title}
        </h2>
        {action}
      </div>
      {children}
    </section>
  );
}

/** One thing that failed: what it is, what names it (`children`), why, and since when. */
function Failed({
  kind,
  reason,
  at,
  children,
}: {
  kind: string;
  reason: string | null;
  at: React.ComponentProps<typeof When>["at"];
  children: React.ReactNode;
}) {
  return (
    <li className="flex flex-wrap items-baseline gap-x-2">
      <span className="text-zinc-500">{kind}</span>
      {children}
      <span className="text-red-800 dark:text-red-200">{reason ?? "No reason was recorded."}</span>
      <span className="ml-auto text-xs text-zinc-500">
        <When at={at} />
      </span>
    </li>
  );
}

export function TenantHome({ tenant }: { tenant: string }) {
  const trpc = useTRPC();
  const base = `/t/${encodeURIComponent(tenant)}`;
  const home = useQuery({
    ...trpc.activity.home.queryOptions({ tenant }),
    // Follow creates, deletes and power changes as they happen, like the instances list does.
    refetchInterval: (q) => (q.state.data?.busy ? 1000 : 10_000),
  });
  const busy = !!home.data?.busy;
  const quota = useQuery({ ...trpc.quotas.get.queryOptions({ tenant }), refetchInterval: busy ? 1000 : 10_000 });

  if (home.error)
    return (
      <p role="alert" className="text-sm text-red-700 dark:text-red-300">
        {errorInfo(home.error).message}
      </p>
    );
  if (!home.data) return <p className="text-sm text-zinc-500">Loading…</p>;
  const { instancesByState, recentOperations, failed } = home.data;
  const total = Object.values(instancesByState).reduce((a, b) => a + b, 0);
  const states = STATE_ORDER.filter((s) => instancesByState[s]);
  const anyFailed = failed.instances.length + failed.volumes.length + failed.operations.length > 0;

  return (
    <div className="flex flex-col gap-8">
      <section
        aria-labelledby="attention"
        className={`rounded-lg border p-4 ${anyFailed ? "border-red-300 bg-red-50 dark:border-red-800 dark:bg-red-950/40" : "border-zinc-200 dark:border-zinc-800"}`}
      >
        <h2 id="attention" className={`text-lg font-semibold ${anyFailed ? "text-red-800 dark:text-red-200" : ""}`}>
          Needs attention
        </h2>
        {anyFailed ? (
          <ul className="mt-2 flex flex-col gap-2 text-sm">
            {failed.instances.map((i) => (
              <Failed key={i.id} kind="Instance" reason={i.reason} at={i.since}>
                <Link href={`${base}/instances/${i.id}`} className={linkCls}>
                  {i.name}
                </Link>
                <InstanceStateBadge state="failed" reason={i.reason} />
              </Failed>
            ))}
            {failed.volumes.map((v) => (
              <Failed key={v.id} kind="Volume" reason={v.reason} at={v.since}>
                <Link href={`${base}/volumes`} className={linkCls}>
                  {v.name}
                </Link>
                <OperationStatusBadge status="failed" />
              </Failed>
            ))}
            {failed.operations.map((o) => (
              <Failed key={o.id} kind="Operation" reason={o.error} at={o.createdAt}>
                <code className="text-xs">{o.kind}</code>
                <TargetLink tenant={tenant} targetType={o.targetType} targetId={o.targetId} targetName={o.targetName} />
                <OperationStatusBadge status="failed" />
              </Failed>
            ))}
          </ul>
        ) : (
          <p className="mt-1 text-sm text-zinc-600 dark:text-zinc-400">
            Nothing failed: no failed instances or volumes, and no failed operation in the last 7 days that was not made good since.
          </p>
        )}
      </section>

      <Section
        id="instances-by-state"
        title="Instances"
        action={
          <Link href={`${base}/instances`} className="text-sm text-sky-700 hover:underline dark:text-sky-400">
            All instances →
          </Link>
        }
      >
        {total ? (
          <div className="grid grid-cols-2 gap-3 md:grid-cols-4 lg:grid-cols-6">
            {states.map((s) => (
              <Link
                key={s}
                href={`${base}/instances?state=${s}`}
                aria-label={`${instancesByState[s]} ${s}`}
                className={`rounded-lg border p-3 hover:border-sky-400 ${s === "failed" ? "border-red-300 dark:border-red-800" : "border-zinc-200 dark:border-zinc-800"}`}
              >
                <InstanceStateBadge state={s} />
                <p className={`mt-1 text-3xl font-semibold tabular-nums ${s === "failed" ? "text-red-600 dark:text-red-400" : ""}`}>{instancesByState[s]}</p>
                {TRANSITIONAL.has(s) ? <p className="text-xs text-zinc-500">under way</p> : null}
              </Link>
            ))}
          </div>
        ) : (
          <EmptyState
            title="No instances yet"
            body="Pick a pool, an image and a subnet: the server is running in about the time its OS takes to boot."
            action={
              <Link
                href={`${base}/instances/new`}
                className="rounded-md bg-sky-600 px-3 py-1.5 text-sm font-medium text-white hover:bg-sky-700 dark:bg-sky-500 dark:text-zinc-950"
              >
                Create instance
              </Link>
            }
          />
        )}
      </Section>

      <Section id="quota" title="Quota">
        {quota.error ? (
          <p role="alert" className="text-sm text-red-700 dark:text-red-300">
            {errorInfo(quota.error).message}
          </p>
        ) : quota.data ? (
          <div className="flex flex-wrap gap-3">
            {QUOTA_METERS.filter((m) => quota.data.usage[m.key] !== null).map((m) => (
              <UsageMeter key={m.key} label={m.label} used={quota.data.usage[m.key] ?? 0} limit={quota.data.limits[m.key]} unit={"unit" in m ? m.unit : ""} />
            ))}
          </div>
        ) : (
          <p className="text-sm text-zinc-500">Loading quota…</p>
        )}
      </Section>

      <Section
        id="recent-operations"
        title="Recent operations"
        action={
          <Link href={`${base}/activity?tab=operations`} className="text-sm text-sky-700 hover:underline dark:text-sky-400">
            All activity →
          </Link>
        }
      >
        {recentOperations.length ? (
          <ul aria-label="Recent operations" className="divide-y divide-zinc-100 rounded-lg border border-zinc-200 dark:divide-zinc-800 dark:border-zinc-800">
            {recentOperations.map((o) => (
              <li key={o.id} className="flex flex-wrap items-baseline gap-x-3 gap-y-1 px-4 py-2 text-sm">
                <OperationStatusBadge status={o.status} />
                <code className="text-xs">{o.kind}</code>
                <TargetLink tenant={tenant} targetType={o.targetType} targetId={o.targetId} targetName={o.targetName} />
                <OperationStep op={o} />
                {o.status === "failed" && o.error ? <span className="text-red-700 dark:text-red-300">{o.error}</span> : null}
                <span className="ml-auto text-xs text-zinc-500">
                  <When at={o.createdAt} />
                </span>
              </li>
            ))}
          </ul>
        ) : (
          <EmptyState
            title="No operations yet"
            body="Creating, starting, stopping or deleting an instance, and backing it up, each shows here with its progress."
          />
        )}
      </Section>
    </div>
  );
}
