// Traits seen from the scheduler's side: which traits the schedulable hosts of a pool offer (what a tenant may ask
// for), and how many of them have a set of traits — the same host conditions as the reserve step
// (server/workflows/instances.ts reserveNode), so a create refused here would have found no host there either.
import { and, eq, sql } from "drizzle-orm";
import type { Db, Tx } from "@/db/client";
import { nodes, pools } from "@/db/schema";

type Runner = Db | Tx;

/** A text[] value for SQL (drizzle would spread a JS array into a list of parameters). */
export function textArray(list: readonly string[]) {
  return sql`ARRAY[${sql.join(
    list.map((t) => sql`${t}`),
    sql`, `,
  )}]::text[]`;
}

/** A host that can run instances: it has a DPU with an agent. */
const runsInstances = sql`exists (select 1 from nodes d where d.parent_node_id = ${nodes.id} and d.kind = 'dpu' and d.agent_url is not null and d.agent_token is not null)`;
const free = sql`${nodes.provisionState} = 'available' and not ${nodes.maintenance} and ${nodes.fault} is null and not exists (select 1 from nodes d where d.parent_node_id = ${nodes.id} and d.fault is not null)`;

/** Every trait of the pool's hosts that also have the pool's own required traits, sorted. */
export async function traitsInPool(db: Runner, poolId: string): Promise<string[]> {
  const rows = await db
    .selectDistinct({ trait: sql<string>`unnest(${nodes.traits})` })
    .from(nodes)
    .innerJoin(pools, eq(pools.id, nodes.poolId))
    .where(and(eq(nodes.poolId, poolId), eq(nodes.kind, "host"), runsInstances, sql`${nodes.traits} @> ${pools.requiredTraits}`));
  return rows.map((r) => r.trait).sort();
}

/** Hosts of the pool that can run instances and have every one of `traits`: all of them, and those free now. */
export async function hostsWithTraits(db: Runner, poolId: string, traits: string[]): Promise<{ total: number; available: number }> {
  const [r] = await db
    .select({ total: sql<number>`count(*)::int`, available: sql<number>`(count(*) filter (where ${free}))::int` })
    .from(nodes)
    .where(and(eq(nodes.poolId, poolId), eq(nodes.kind, "host"), runsInstances, sql`${nodes.traits} @> ${textArray(traits)}`));
  return { total: r?.total ?? 0, available: r?.available ?? 0 };
}
