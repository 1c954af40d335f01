// The routers' side of live security rules: after a change committed (desired versions bumped in its transaction),
// `applyRulesSoon()` enqueues a reconciler pass (server/workflows/rules.ts) so enforcement follows at once instead of
// at the next sweep; and `rulesStatusOf` counts, for a set of ports, how many NICs enforce the current version and
// which DPUs failed (domain/rules-status.ts words it).
import { type SQL, sql } from "drizzle-orm";
import type { Db, Tx } from "@/db/client";
import { logger } from "@/server/lib/log";
import type { RulesStatus } from "@/domain/rules-status";
import { catalog } from "@/server/workflows/catalog";
import { engineRunning } from "@/server/workflows/engine";
import { enqueuePass } from "@/server/workflows/start";

/** Instance states in which the instance's NIC exists on its DPU and the reconciler keeps its rules current. Creating,
 *  rebuilding and recovering instances get their rules from their own workflow. */
export const LIVE_NIC_STATES = ["running", "starting", "stopping", "stopped", "rebooting"] as const;

export const liveNicStates = () =>
  sql.join(
    LIVE_NIC_STATES.map((s) => sql`${s}`),
    sql`, `,
  );

/** Enqueues a rules pass (or finds one waiting: enqueuePass); call after the change's transaction committed. Never fails the change: without an engine
 *  in this process, or if the enqueue fails, the periodic sweep applies it. */
export async function applyRulesSoon(): Promise<void> {
  if (!engineRunning()) return;
  await enqueuePass(catalog.rulesReconcile, ["change"]).catch((e: Error) =>
    logger.warn({ error: e.message }, "could not enqueue a rules pass; the sweep will apply the change"),
  );
}

/** How many of these ports' NICs (bound ports of live instances) enforce their current rules, and which DPUs failed;
 *  the ports by id or as a subquery of port ids (portsAffectedByGroupSql: a thousand ports, one statement). */
export async function rulesStatusOf(db: Db | Tx, portIds: string[] | SQL): Promise<RulesStatus> {
  if (Array.isArray(portIds) && !portIds.length) return { total: 0, applied: 0, failingDpus: [], lastError: null };
  const ids = Array.isArray(portIds)
    ? sql.join(
        portIds.map((id) => sql`${id}::uuid`),
        sql`, `,
      )
    : portIds;
  const r = await db.execute<{ total: number; applied: number; failing: string[] | null; last_error: string | null }>(sql`
    select count(*)::int as total,
           count(*) filter (where p.applied_rules_version >= p.rules_version)::int as applied,
           array_agg(distinct d.name order by d.name) filter (where p.applied_rules_version < p.rules_version and d.name is not null) as failing,
           max(p.rules_error) filter (where p.applied_rules_version < p.rules_version) as last_error
      from ports p
      join instances i on i.id = p.instance_id and i.state in (${liveNicStates()})
      left join nodes d on d.id = p.rules_error_dpu_id
     where p.node_id is not null and p.id in (${ids})`);
  const row = r.rows[0]!;
  return { total: row.total, applied: row.applied, failingDpus: row.failing ?? [], lastError: row.last_error };
}
