// Operator console overview: pools, tenants and users counted from the database, and the hardware fleet
// (totals, hosts by pool/state/health, faults needing attention) from `nodes.overview`, live.
import { sql } from "drizzle-orm";
import Link from "next/link";
import { HardwareOverview } from "@/components/nodes/hardware-overview";
import { PageHeader } from "@/components/ui/page";
import { getDb } from "@/db/client";

export const metadata = { title: "Overview" };

export default async function OpsOverview() {
  const [c] = (
    await getDb().execute<{ pools: number; tenants: number; users: number }>(sql`
      select (select count(*)::int from pools) as pools, (select count(*)::int from tenants) as tenants, (select count(*)::int from users) as users`)
  ).rows;
  const cards = [
    { label: "Pools", value: c?.pools ?? 0, href: "/ops/pools" },
    { label: "Tenants", value: c?.tenants ?? 0, href: "/ops/tenants" },
    { label: "Users", value: c?.users ?? 0, href: "/ops/tenants" },
  ];
  return (
    <div>
      <PageHeader title="Overview" description="The fleet at a glance." />
      <div className="grid grid-cols-2 gap-4 md:grid-cols-3">
        {cards.map((k) => (
          <Link key={k.label} href={k.href} className="rounded-lg border border-zinc-200 p-4 hover:border-sky-400 dark:border-zinc-800">
            <p className="text-sm text-zinc-500">{k.label}</p>
            <p className="mt-1 text-3xl font-semibold tabular-nums">{k.value}</p>
          </Link>
        ))}
      </div>
      <h2 className="mt-8 mb-3 text-lg font-semibold">Hardware</h2>
      <HardwareOverview />
    </div>
  );
}
