// Live security rules: the reconciler that brings every NIC's rules on its DPU up to the desired version.
// Routers bump `ports.rules_version` in the transaction of a change (a group's rules, a port's groups, a remote
// group's membership) and enqueue a pass (server/services/rules-apply.ts); a periodic sweep enqueues one too. Passes
// run one at a time (queue `rules`, concurrency 1, across replicas), so an older compile can never overwrite a newer
// one on an agent. A pass:
//  - (sweep only) asks each DPU's agent which NICs it has and the hash of the rules each enforces; a NIC missing or
//    with other rules than the BFF recorded (an agent restarted with empty state, a hand edit) goes back to pending;
//  - for every pending port of a live instance whose retry time has come: compile, PUT /v1/nics/:name/rules (a NIC the
//    agent lost is re-created with PUT /v1/nics/:name), record the applied version and the agent's rules hash;
//  - a DPU that does not answer gets its ports' error, its id (the UI names it) and a retry time with exponential
//    backoff (ANVIL_RULES_RETRY_MS doubling up to ANVIL_RULES_RETRY_MAX_MS). State lives in `ports`, not in the engine:
//    a pass killed half-way is simply run again (agent PUTs of the same rules are no-ops).
import { and, eq, sql } from "drizzle-orm";
import { getDb } from "@/db/client";
import { ports } from "@/db/schema";
import { isDpuAgentError } from "@/server/drivers/dpu-agent/client";
import { logger } from "@/server/lib/log";
import type { RuleSet } from "@/agent/rules";
import { compileRuleSet, loadCompileInput } from "@/server/domain/rule-compiler";
import { liveNicStates } from "@/server/services/rules-apply";
import { catalog, schedules } from "./catalog";
import { defineSchedule, defineWorkflow, step } from "./engine";
import { agentFor, agentNames } from "./instances";
import { enqueue } from "./start";

const envNum = (name: string, dflt: number) => Number(process.env[name] ?? dflt);
const retryMs = () => envNum("ANVIL_RULES_RETRY_MS", 1000);
const retryMaxMs = () => envNum("ANVIL_RULES_RETRY_MAX_MS", 30_000);
/** An agent that does not answer a rules push within this is treated as down (its ports retry later). */
const pushTimeoutMs = () => envNum("ANVIL_RULES_AGENT_TIMEOUT_MS", 5000);
/** Rules pushes in flight per DPU, and DPUs worked at once: a pass over a thousand NICs must not open a thousand
 *  sockets at once (the pushes then time out on a busy BFF and are retried for nothing). */
const PER_DPU = 4;
const DPUS_AT_ONCE = 32;
/** How often the sweep runs (seconds). */
export const RULES_SWEEP_S = 5;

type Target = {
  portId: string;
  nicIndex: number;
  instanceId: string;
  desired: number;
  applied: number;
  appliedHash: string | null;
  attempts: number;
  mac: string;
  vlanId: number | null;
  vni: number;
  dpuId: string;
  dpuName: string;
  agentUrl: string | null;
  agentToken: string | null;
};

/** Bound ports of live instances with their DPU; `pending` keeps those behind whose retry time has come. */
async function targets(pending: boolean): Promise<Target[]> {
  const due = pending ? sql`and p.applied_rules_version < p.rules_version and (p.rules_retry_at is null or p.rules_retry_at <= now())` : sql``;
  const rows = await getDb().execute<Target>(sql`
    select p.id as "portId", i.id as "instanceId", p.nic_index as "nicIndex", p.rules_version as "desired", p.applied_rules_version as "applied",
           p.rules_applied_hash as "appliedHash", p.rules_attempts as "attempts", p.mac::text as "mac",
           s.vlan_id as "vlanId", v.vni as "vni", d.id as "dpuId", d.name as "dpuName",
           d.agent_url as "agentUrl", d.agent_token as "agentToken"
      from ports p
      join instances i on i.id = p.instance_id and i.state in (${liveNicStates()})
      join subnets s on s.id = p.subnet_id
      join vpcs v on v.id = s.vpc_id
      join nodes d on d.parent_node_id = p.node_id and d.kind = 'dpu'
     where p.node_id is not null ${due}
     order by d.id, p.id`);
  return rows.rows;
}

function byDpu(ts: Target[]): Target[][] {
  const m = new Map<string, Target[]>();
  for (const t of ts) {
    const l = m.get(t.dpuId) ?? [];
    l.push(t);
    m.set(t.dpuId, l);
  }
  return [...m.values()];
}

async function eachLimited<T>(items: T[], limit: number, fn: (t: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) await fn(items[next++]!);
    }),
  );
}

const agentOf = (t: Target) => {
  if (!t.agentUrl || !t.agentToken) throw new Error(`DPU ${t.dpuName} has no agent address`);
  return agentFor({ agentUrl: t.agentUrl, agentToken: t.agentToken }, { timeoutMs: pushTimeoutMs(), retries: 0 });
};

/** Sweep: ports the agent no longer enforces as recorded (NIC gone, other rules) go back to pending. */
async function auditAgents(): Promise<{ drifted: number; unreachable: string[] }> {
  const db = getDb();
  let drifted = 0;
  const unreachable: string[] = [];
  await Promise.all(
    byDpu(await targets(false)).map(async (group) => {
      const first = group[0]!;
      let nics: { name: string; rulesHash?: string }[];
      try {
        nics = (await agentOf(first).listNics()) as { name: string; rulesHash?: string }[];
      } catch {
        unreachable.push(first.dpuName); // a push to it records why; nothing is known about its rules now
        return;
      }
      const have = new Map(nics.map((n) => [n.name, n.rulesHash]));
      for (const t of group) {
        if (t.applied === 0) continue;
        const hash = have.get(agentNames.nic(t.instanceId, t.nicIndex));
        if (hash !== undefined && hash === t.appliedHash) continue;
        const r = await db
          .update(ports)
          .set({ appliedRulesVersion: 0 })
          .where(and(eq(ports.id, t.portId), eq(ports.appliedRulesVersion, t.applied)));
        drifted += r.rowCount ?? 0;
        logger.warn({ port: t.portId, dpu: t.dpuName, missing: hash === undefined }, "DPU agent no longer enforces the recorded rules; re-applying");
      }
    }),
  );
  return { drifted, unreachable };
}

type Compiled = (portId: string) => Promise<RuleSet>;

/**
 * The compiled rules of each target port, compiled once per distinct set of groups: a port's rule set depends only on
 * its groups (their rules and the members of the groups they name), so the thousand ports of a group share one compile.
 */
async function compilerFor(ts: Target[]): Promise<Compiled> {
  if (!ts.length) return async () => [] as unknown as RuleSet;
  const ids = sql.join(
    ts.map((t) => sql`${t.portId}::uuid`),
    sql`, `,
  );
  const rows = await getDb().execute<{ port_id: string; groups: string }>(sql`
    select p.id as port_id, coalesce(string_agg(psg.group_id::text, ',' order by psg.group_id), '') as groups
      from ports p left join port_security_groups psg on psg.port_id = p.id
     where p.id in (${ids}) group by p.id`);
  const keyOf = new Map(rows.rows.map((r) => [r.port_id, r.groups]));
  const byKey = new Map<string, Promise<RuleSet>>();
  return (portId) => {
    const key = keyOf.get(portId) ?? `port:${portId}`;
    let r = byKey.get(key);
    if (!r) {
      r = loadCompileInput(getDb(), portId).then(compileRuleSet);
      byKey.set(key, r);
    }
    return r;
  };
}

/** Pushes one port's compiled rules; returns the agent's hash of what it now enforces. */
async function push(t: Target, compiled: Compiled): Promise<string> {
  const rules = await compiled(t.portId);
  const agent = agentOf(t);
  const name = agentNames.nic(t.instanceId, t.nicIndex);
  let nic: Record<string, unknown>;
  try {
    nic = await agent.putNicRules(name, rules);
  } catch (e) {
    if (!isDpuAgentError(e) || e.status !== 404) throw e;
    // The agent lost the NIC (restarted with empty state): re-create it as provisioning did, with the rules.
    const network = t.vlanId ? { type: "vlan" as const, vlanId: t.vlanId } : { type: "vxlan" as const, vni: t.vni };
    nic = await agent.putNic(name, { mac: t.mac, network, rules });
  }
  return String(nic.rulesHash ?? "");
}

const backoffSql = (attempts: number) => {
  const ms = Math.min(retryMaxMs(), retryMs() * 2 ** Math.min(attempts, 20));
  return sql`now() + ${`${ms} milliseconds`}::interval`;
};

async function recordFailure(t: Target, message: string, dpuDown: boolean): Promise<void> {
  await getDb()
    .update(ports)
    .set({
      rulesError: message.slice(0, 500),
      rulesErrorDpuId: dpuDown ? t.dpuId : null,
      rulesAttempts: sql`${ports.rulesAttempts} + 1`,
      rulesRetryAt: backoffSql(t.attempts),
    })
    .where(eq(ports.id, t.portId));
}

/** Converges one DPU's pending ports; stops at the first sign the DPU is down (the rest wait for the same retry). */
async function convergeDpu(group: Target[], compiled: Compiled): Promise<{ applied: number; failed: number }> {
  let failed = 0;
  const done: { id: string; desired: number; hash: string }[] = [];
  let down: string | null = null;
  await eachLimited(group, PER_DPU, async (t) => {
    if (down) {
      await recordFailure(t, down, true);
      failed++;
      return;
    }
    try {
      done.push({ id: t.portId, desired: t.desired, hash: await push(t, compiled) });
    } catch (e) {
      const transient = isDpuAgentError(e) && e.transient;
      const msg = transient ? `DPU ${t.dpuName} unreachable: ${(e as Error).message}` : `DPU ${t.dpuName} refused the rules: ${(e as Error).message}`;
      if (transient) down = msg;
      await recordFailure(t, msg, transient);
      failed++;
    }
  });
  // One write for the DPU's successes (a thousand single-row updates would cost more than the pushes).
  if (done.length)
    await getDb().execute(sql`
      update ports p
         set applied_rules_version = greatest(p.applied_rules_version, v.desired), rules_applied_hash = v.hash,
             rules_applied_at = now(), rules_error = null, rules_error_dpu_id = null, rules_attempts = 0, rules_retry_at = null
        from jsonb_to_recordset(${JSON.stringify(done)}::jsonb) as v(id uuid, desired int, hash text)
       where p.id = v.id`);
  return { applied: done.length, failed };
}

export interface RulesPass {
  applied: number;
  failed: number;
  drifted: number;
}

/** One pass (not a step by itself: the workflow wraps it). */
export async function reconcileRules(mode: "change" | "sweep"): Promise<RulesPass> {
  const drifted = mode === "sweep" ? (await auditAgents()).drifted : 0;
  const pending = await targets(true);
  const compiled = await compilerFor(pending);
  const results: { applied: number; failed: number }[] = [];
  await eachLimited(byDpu(pending), DPUS_AT_ONCE, async (g) => {
    results.push(await convergeDpu(g, compiled));
  });
  return { applied: results.reduce((a, r) => a + r.applied, 0), failed: results.reduce((a, r) => a + r.failed, 0), drifted };
}

export const rulesReconcileWorkflow = defineWorkflow(catalog.rulesReconcile, async (mode) => step("converge rules", () => reconcileRules(mode)));

export const rulesSweepSchedule = defineSchedule(schedules.rulesSweep, `*/${RULES_SWEEP_S} * * * * *`, async (t: Date) => {
  await enqueue(catalog.rulesReconcile, ["sweep"], { workflowID: `rules-sweep-${t.toISOString()}` });
});
