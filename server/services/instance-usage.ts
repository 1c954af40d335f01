// Compute quota usage: instances, cores and RAM of a tenant's instances that are not deleted (a failed instance
// still holds its name and counts until the tenant deletes it). Registered with the quota page so quotas.get shows
// the numbers the instance create enforces. Also the pool "flavours" a tenant picks from: the smallest host of each
// pool (what every instance of that pool is guaranteed) and how many hosts are free right now.
import { and, count, eq, ne, sql, sum } from "drizzle-orm";
import type { Db, Tx } from "@/db/client";
import { instances, nodes, pools } from "@/db/schema";
import { columnsOf } from "./rows";
import { registerUsage } from "./quotas-usage";

type Runner = Db | Tx;
const live = (tenantId: string) => and(eq(instances.tenantId, tenantId), ne(instances.state, "deleted"));

export async function instanceCount(db: Runner, tenantId: string): Promise<number> {
  const [r] = await db.select({ n: count() }).from(instances).where(live(tenantId));
  return r?.n ?? 0;
}
/** The total of one size column over the tenant's live instances. */
async function liveTotal(db: Runner, tenantId: string, column: typeof instances.cores | typeof instances.ramGiB): Promise<number> {
  const [r] = await db
    .select({ n: sum(column) })
    .from(instances)
    .where(live(tenantId));
  return Number(r?.n ?? 0);
}
export const instanceCores = (db: Runner, tenantId: string) => liveTotal(db, tenantId, instances.cores);
export const instanceRamGiB = (db: Runner, tenantId: string) => liveTotal(db, tenantId, instances.ramGiB);

registerUsage("instances", instanceCount);
registerUsage("cores", instanceCores);
registerUsage("ramGiB", instanceRamGiB);

export interface Flavor {
  poolId: string;
  name: string;
  description: string;
  resourceClass: string;
  cores: number;
  ramGiB: number;
  /** Hosts free for a new instance now (available, no maintenance, no fault, DPU with an agent). */
  available: number;
  /** Hosts of the pool that can run instances at all (have an agent-equipped DPU). */
  total: number;
  maxSystemVolumeGiB: number;
  /** Traits every host of the pool must have (hosts without them count in neither number above). */
  requiredTraits: string[];
}

/** Every pool as a flavour; `poolId` narrows to one. Sizes come from the inspected inventory of its hosts. */
export async function flavors(db: Runner, poolId?: string): Promise<Flavor[]> {
  const rows = await db
    .select({
      poolId: pools.id,
      ...columnsOf(pools, "name", "description", "resourceClass", "maxSystemVolumeGiB", "requiredTraits"),
      cores: sql<number>`coalesce(min((${nodes.inventory}->'cpu'->>'cores')::int), 0)::int`,
      ramGiB: sql<number>`coalesce(min((${nodes.inventory}->>'memoryGiB')::numeric)::int, 0)::int`,
      total: sql<number>`count(${nodes.id})::int`,
      available: sql<number>`(count(${nodes.id}) filter (where ${nodes.provisionState} = 'available' and not ${nodes.maintenance} and ${nodes.fault} is null and not exists (select 1 from nodes d where d.parent_node_id = ${nodes.id} and d.fault is not null)))::int`,
    })
    .from(pools)
    .leftJoin(
      nodes,
      and(
        eq(nodes.poolId, pools.id),
        eq(nodes.kind, "host"),
        sql`exists (select 1 from nodes d where d.parent_node_id = ${nodes.id} and d.kind = 'dpu' and d.agent_url is not null and d.agent_token is not null)`,
        // A host without the pool's required traits is not one of its flavour's hosts: the scheduler never picks it.
        sql`${nodes.traits} @> ${pools.requiredTraits}`,
      ),
    )
    .where(poolId ? eq(pools.id, poolId) : undefined)
    .groupBy(pools.id)
    .orderBy(pools.name);
  return rows;
}
