"use client";
// The hardware part of the Overview: fleet totals, per-pool counts by provisioning state and health
// (`nodes.overview`), and the faults needing attention, each linking to its node. Polls while visible.
import { TableHead } from "@/components/ui/table-head";
import { useQuery } from "@tanstack/react-query";
import Link from "next/link";
import { errorInfo, useTRPC } from "@/components/trpc";
import { Badge } from "@/components/ui/badge";
import { EmptyState } from "@/components/ui/page";
import { PROVISION_STATES } from "@/domain/node-lifecycle";
import { Ago, StateBadge } from "./node-status";

const HEALTH = ["ok", "warning", "critical", "unknown"] as const;
const healthTone = { ok: "green", warning: "amber", critical: "red", unknown: "zinc" } as const;

/** A part of the overview under its heading (the heading names the region). */
function Titled({ id, title, children }: { id: string; title: string; children: React.ReactNode }) {
  return (
    <section aria-labelledby={id}>
      <h2 id={id} className="mb-2 text-lg font-semibold">
        {title}
      </h2>
      {children}
    </section>
  );
}

export function HardwareOverview() {
  const trpc = useTRPC();
  const o = useQuery({ ...trpc.nodes.overview.queryOptions(), refetchInterval: 5000 });
  if (o.error)
    return (
      <p role="alert" className="text-sm text-red-700 dark:text-red-300">
        {errorInfo(o.error).message}
      </p>
    );
  if (!o.data) return <p className="text-sm text-zinc-500">Loading hardware…</p>;
  const { totals, byPool, faults } = o.data;

  const cards = [
    { label: "Hosts", value: totals.hosts, href: "/ops/nodes" },
    { label: "DPUs", value: totals.dpus, href: "/ops/dpus" },
    { label: "Powered on", value: totals.on, href: "/ops/nodes" },
    { label: "Faults", value: totals.faults, href: "/ops/nodes", alert: totals.faults > 0 },
    { label: "In maintenance", value: totals.maintenance, href: "/ops/nodes" },
  ];

  // One row per pool (hosts without a pool are their own row), counts by state and by health.
  const pools = new Map<string, { name: string; state: Record<string, number>; health: Record<string, number>; total: number }>();
  for (const r of byPool) {
    const key = r.poolId ?? "none";
    const p = pools.get(key) ?? { name: r.poolName ?? "No pool", state: {}, health: {}, total: 0 };
    p.state[r.provisionState] = (p.state[r.provisionState] ?? 0) + r.n;
    p.health[r.health] = (p.health[r.health] ?? 0) + r.n;
    p.total += r.n;
    pools.set(key, p);
  }
  const states = PROVISION_STATES.filter((s) => [...pools.values()].some((p) => p.state[s]));

  return (
    <div className="flex flex-col gap-6">
      <section aria-label="Hardware totals" className="grid grid-cols-2 gap-4 md:grid-cols-5">
        {cards.map((k) => (
          <Link key={k.label} href={k.href} className="rounded-lg border border-zinc-200 p-4 hover:border-sky-400 dark:border-zinc-800">
            <p className="text-sm text-zinc-500">{k.label}</p>
            <p className={`mt-1 text-3xl font-semibold tabular-nums ${k.alert ? "text-red-600 dark:text-red-400" : ""}`}>{k.value}</p>
          </Link>
        ))}
      </section>

      <Titled id="by-pool" title="Hosts by pool">
        {pools.size ? (
          <div className="overflow-x-auto rounded-lg border border-zinc-200 dark:border-zinc-800">
            <table aria-label="Hosts by pool, state and health" className="w-full text-left text-sm">
              <TableHead
                columns={["Pool", "Hosts", ...states.map((s) => <StateBadge key={s} state={s} />), "Health"]}
                tone="boxed"
                cell="px-4 py-2 font-medium"
              />
              <tbody className="divide-y divide-zinc-100 dark:divide-zinc-800">
                {[...pools.entries()].map(([key, p]) => (
                  <tr key={key}>
                    <th scope="row" className="px-4 py-2 font-medium">
                      {p.name}
                    </th>
                    <td className="px-4 py-2 tabular-nums">{p.total}</td>
                    {states.map((s) => (
                      <td key={s} className="px-4 py-2 tabular-nums">
                        {p.state[s] ?? <span className="text-zinc-400">0</span>}
                      </td>
                    ))}
                    <td className="px-4 py-2">
                      <div className="flex flex-wrap gap-1">
                        {HEALTH.filter((h) => p.health[h]).map((h) => (
                          <Badge key={h} tone={healthTone[h]}>
                            {p.health[h]} {h === "ok" ? "healthy" : h}
                          </Badge>
                        ))}
                      </div>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        ) : (
          <EmptyState
            title="No nodes enrolled yet — enroll one or upload a CSV"
            action={
              <Link href="/ops/nodes" className="text-sm text-sky-700 underline dark:text-sky-400">
                Go to nodes
              </Link>
            }
          />
        )}
      </Titled>

      <Titled id="faults" title="Faults needing attention">
        {faults.length ? (
          <ul className="divide-y divide-zinc-100 rounded-lg border border-zinc-200 dark:divide-zinc-800 dark:border-zinc-800">
            {faults.map((f) => (
              <li key={f.id} className="flex flex-wrap items-baseline gap-x-3 gap-y-1 px-4 py-2 text-sm">
                <Link href={`/ops/nodes/${f.id}`} className="font-medium text-sky-700 hover:underline dark:text-sky-400">
                  {f.name}
                </Link>
                {f.kind === "dpu" ? <span className="text-xs text-zinc-500">DPU of {f.parentName}</span> : null}
                <span className="text-red-700 dark:text-red-300">{f.fault}</span>
                {f.maintenance ? <Badge tone="amber">maintenance</Badge> : null}
                <span className="ml-auto text-xs text-zinc-500">
                  <Ago at={f.updatedAt} />
                </span>
              </li>
            ))}
          </ul>
        ) : (
          <p className="rounded-lg border border-dashed border-zinc-300 px-4 py-6 text-center text-sm text-zinc-500 dark:border-zinc-700">
            No faults. Every BMC answers and reports healthy.
          </p>
        )}
      </Titled>
    </div>
  );
}
