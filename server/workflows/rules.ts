// Live security rules: the reconciler that brings every NIC's rules on its DPU up to the desired version.
// Routers bump `ports.rules_version` in the transaction of a change (a group's rules, a port's groups, a remote
// group's membership) and enqueue a pass (server/services/rules-apply.ts); a periodic sweep enqueues one too. Passes
// run one at a time (queue `rules`, concurrency 1, across replicas), so an older compile can never overwrite a newer
// one on an agent. A pass:
//  - (sweep only) asks each DPU's agent which NICs it has and the hash of the rules each enforces; a NIC missing or
//    with other rules than the BFF recorded (an agent restarted with empty state, a hand edit) goes back to pending;
//  - for every pending port of a live instance whose retry time has come: compile (once per distinct set of groups),
//    push each DPU's NICs in one PUT /v1/nic-rules (a NIC the agent lost is re-created with PUT /v1/nics/:name), record
//    the applied versions and the agent's rules hashes (a few bulk statements per pass, as outcomes arrive);
//  - a DPU that does not answer gets its ports' error, its id (the UI names it) and a retry time with exponential
//    backoff (ANVIL_RULES_RETRY_MS doubling up to ANVIL_RULES_RETRY_MAX_MS). State lives in `ports`, not in the engine:
//    a pass killed half-way is simply run again (agent PUTs of the same rules are no-ops).
import { and, eq, sql } from "drizzle-orm";
import { getDb } from "@/db/client";
import { ports } from "@/db/schema";
import { MAX_NIC_RULES_BATCH } from "@/agent/schemas";
import { isDpuAgentError } from "@/server/drivers/dpu-agent/client";
import { logger } from "@/server/lib/log";
import type { RuleSet } from "@/agent/rules";
import { compileRuleSet, isRuleCompileError, loadCompileInput } from "@/server/domain/rule-compiler";
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
/** Requests in flight per DPU (NICs re-created, or rules pushed to an agent without the batch endpoint), and DPUs
 *  worked at once: a pass over a thousand NICs must not open a thousand sockets at once (the pushes then time out on a
 *  busy BFF and are retried for nothing). */
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
  /** The port's security groups (sorted ids): ports with the same groups get the same compiled rules. */
  groups: string;
};

/** Bound ports of live instances with their DPU; `pending` keeps those behind whose retry time has come. */
async function targets(pending: boolean): Promise<Target[]> {
  const due = pending ? sql`and p.applied_rules_version < p.rules_version and (p.rules_retry_at is null or p.rules_retry_at <= now())` : sql``;
  const rows = await getDb().execute<Target>(sql`
    select p.id as "portId", i.id as "instanceId", p.nic_index as "nicIndex", p.rules_version as "desired", p.applied_rules_version as "applied",
           p.rules_applied_hash as "appliedHash", p.rules_attempts as "attempts", p.mac::text as "mac",
           s.vlan_id as "vlanId", v.vni as "vni", d.id as "dpuId", d.name as "dpuName",
           d.agent_url as "agentUrl", d.agent_token as "agentToken",
           (select coalesce(string_agg(psg.group_id::text, ',' order by psg.group_id), '') from port_security_groups psg
             where psg.port_id = p.id) as "groups"
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

/** A distinct group set's compiled rules (with the length of their JSON, to size agent requests), or why it failed. */
type Compiled = { rules: RuleSet; bytes: number } | { error: string };

/**
 * The compiled rules of each distinct set of groups among the targets: a port's rule set depends only on its groups
 * (their rules and the members of the groups they name), so the thousand ports of a group share one compile.
 */
async function compileSets(ts: Target[]): Promise<Map<string, Compiled>> {
  const first = new Map<string, string>();
  for (const t of ts) if (!first.has(t.groups)) first.set(t.groups, t.portId);
  const sets = new Map<string, Compiled>();
  await Promise.all(
    [...first].map(async ([key, portId]) => {
      try {
        const rules = compileRuleSet(await loadCompileInput(getDb(), portId));
        sets.set(key, { rules, bytes: JSON.stringify(rules).length });
      } catch (e) {
        if (!isRuleCompileError(e)) throw e;
        sets.set(key, { error: e.message });
      }
    }),
  );
  return sets;
}

type Applied = { id: string; desired: number; hash: string };
/** A failure as its row in the recordset (dpu_id: the DPU the UI names, set when it did not answer). */
type Failed = { id: string; message: string; dpu_id: string | null };

/**
 * Writes the pass's outcomes as they come, one statement for the successes and one for the failures that piled up
 * while the previous write ran: a DPU that answers slowly (or times out) does not hold back the records — and the
 * UI's status — of the others, and a thousand NICs still cost a handful of statements.
 */
function recorder() {
  const applied: Applied[] = [];
  const failed: Failed[] = [];
  let writing = Promise.resolve();
  let ms = 0;
  async function write() {
    const a = applied.splice(0);
    const f = failed.splice(0);
    if (!a.length && !f.length) return;
    const t0 = performance.now();
    if (a.length)
      await getDb().execute(sql`
        update ports p
           set applied_rules_version = greatest(p.applied_rules_version, v.desired), rules_applied_hash = v.hash,
               rules_applied_at = now(), rules_error = null, rules_error_dpu_id = null, rules_attempts = 0, rules_retry_at = null
          from jsonb_to_recordset(${JSON.stringify(a)}::jsonb) as v(id uuid, desired int, hash text)
         where p.id = v.id`);
    // Retry after ANVIL_RULES_RETRY_MS doubling with each failed attempt, up to ANVIL_RULES_RETRY_MAX_MS.
    if (f.length)
      await getDb().execute(sql`
        update ports p
           set rules_error = left(v.message, 500), rules_error_dpu_id = v.dpu_id, rules_attempts = p.rules_attempts + 1,
               rules_retry_at = now() + least(${retryMaxMs()}::float8, ${retryMs()}::float8 * power(2, least(p.rules_attempts, 20))) * interval '1 millisecond'
          from jsonb_to_recordset(${JSON.stringify(f)}::jsonb) as v(id uuid, message text, dpu_id uuid)
         where p.id = v.id`);
    ms += performance.now() - t0;
  }
  const flush = () => {
    writing = writing.then(write);
    // A failed write fails the pass at its last flush; the flushes the pass does not wait for must not crash the process.
    writing.catch(() => undefined);
    return writing;
  };
  return {
    applied: (a: Applied) => applied.push(a),
    failed: (t: Target, message: string, dpuDown: boolean) => failed.push({ id: t.portId, message, dpu_id: dpuDown ? t.dpuId : null }),
    flush,
    ms: () => ms,
  };
}
type Recorder = ReturnType<typeof recorder>;

/** NICs per agent request: the agent takes MAX_NIC_RULES_BATCH and applies them at once, but a real data plane spends
 *  tens of ms per NIC's flows, and a request must finish within the push timeout. */
const NICS_PER_REQUEST = Math.min(32, MAX_NIC_RULES_BATCH);
/** Rules of NICs in one agent request: at most half the agent's body limit (1 MiB, agent/server.ts). */
const BATCH_BYTES = 512 * 1024;

/** The DPU's targets cut into requests of at most NICS_PER_REQUEST NICs and BATCH_BYTES of rules. */
function batches(group: Target[], sets: Map<string, Compiled>): Target[][] {
  const out: Target[][] = [];
  let cur: Target[] = [];
  let bytes = 0;
  for (const t of group) {
    const size = (sets.get(t.groups) as { bytes: number }).bytes + 100;
    if (cur.length && (cur.length >= NICS_PER_REQUEST || bytes + size > BATCH_BYTES)) {
      out.push(cur);
      cur = [];
      bytes = 0;
    }
    cur.push(t);
    bytes += size;
  }
  if (cur.length) out.push(cur);
  return out;
}

/** How a failed agent answer is recorded: a DPU that does not answer (or fails: 5xx) is named as the failing DPU. */
function failure(t: Target, status: number, message: string): { message: string; dpuDown: boolean } {
  const transient = status === 0 || status >= 500;
  return { message: transient ? `DPU ${t.dpuName} unreachable: ${message}` : `DPU ${t.dpuName} refused the rules: ${message}`, dpuDown: transient };
}

/**
 * Converges one DPU's pending ports: their rules in one request per batch (PUT /v1/nic-rules; an agent without it gets
 * one PUT /v1/nics/:name/rules per NIC), a NIC the agent lost re-created with its rules (PUT /v1/nics/:name). Stops at
 * the first sign the DPU is down: the rest of its ports wait for the same retry.
 */
async function convergeDpu(group: Target[], sets: Map<string, Compiled>, rec: Recorder): Promise<void> {
  const first = group[0]!;
  const ready: Target[] = [];
  for (const t of group) {
    const c = sets.get(t.groups)!;
    if ("error" in c) rec.failed(t, c.error, false);
    else ready.push(t);
  }
  let agent: ReturnType<typeof agentOf>;
  try {
    agent = agentOf(first);
  } catch (e) {
    for (const t of ready) rec.failed(t, `DPU ${t.dpuName}: ${(e as Error).message}`, false);
    return;
  }
  const rulesOf = (t: Target) => (sets.get(t.groups) as { rules: RuleSet }).rules;
  const nameOf = (t: Target) => agentNames.nic(t.instanceId, t.nicIndex);
  let down: string | null = null;
  let perNic = false;
  for (const batch of batches(ready, sets)) {
    if (down) {
      for (const t of batch) rec.failed(t, down, true);
      continue;
    }
    // Per NIC: what the agent answered, as the hash it now enforces or an error (status 0: no answer).
    const asOutcome = (e: unknown) => {
      if (!isDpuAgentError(e)) throw e;
      return { status: e.status, message: e.message };
    };
    let outcomes: ({ hash: string } | { status: number; message: string })[] = [];
    if (!perNic) {
      try {
        const byName = new Map((await agent.putNicRulesBatch(batch.map((t) => ({ name: nameOf(t), rules: rulesOf(t) })))).map((o) => [o.name, o]));
        outcomes = batch.map((t) => {
          const o = byName.get(nameOf(t));
          if (!o) return { status: 502, message: `DPU agent: no outcome for NIC ${nameOf(t)}` };
          return "rulesHash" in o ? { hash: o.rulesHash } : { status: o.status, message: `DPU agent: ${o.error.message}` };
        });
      } catch (e) {
        // An agent older than PUT /v1/nic-rules answers the whole request 404: one request per NIC, as before it.
        if (isDpuAgentError(e) && e.status === 404) perNic = true;
        else outcomes = batch.map(() => asOutcome(e));
      }
    }
    if (perNic)
      await eachLimited(
        batch.map((t, i) => ({ t, i })),
        PER_DPU,
        async ({ t, i }) => {
          outcomes[i] = await agent.putNicRules(nameOf(t), rulesOf(t)).then((n) => ({ hash: String(n.rulesHash ?? "") }), asOutcome);
        },
      );
    await eachLimited(
      batch.map((t, i) => ({ t, o: outcomes[i]! })),
      PER_DPU,
      async ({ t, o }) => {
        if ("status" in o && o.status === 404) {
          if (down) return void rec.failed(t, down, true);
          // The agent lost the NIC (restarted with empty state): re-create it as provisioning did, with the rules.
          const network = t.vlanId ? { type: "vlan" as const, vlanId: t.vlanId } : { type: "vxlan" as const, vni: t.vni };
          o = await agent.putNic(nameOf(t), { mac: t.mac, network, rules: rulesOf(t) }).then((n) => ({ hash: String(n.rulesHash ?? "") }), asOutcome);
        }
        if ("hash" in o) return void rec.applied({ id: t.portId, desired: t.desired, hash: o.hash });
        const f = failure(t, o.status, o.message);
        if (f.dpuDown) down ??= f.message;
        rec.failed(t, f.message, f.dpuDown);
      },
    );
    void rec.flush();
  }
}

/** Where a pass spent its time (ms): `push` is the wall time of every DPU's requests, `record` the writes of their
 *  outcomes (most of them while other DPUs are still answering). */
export interface PassTimings {
  audit: number;
  read: number;
  compile: number;
  push: number;
  record: number;
}

export interface RulesPass {
  applied: number;
  failed: number;
  drifted: number;
  /** When the pass began (epoch ms) and where its time went. */
  startedAt: number;
  ms: PassTimings;
}

/** One pass (not a step by itself: the workflow wraps it). */
export async function reconcileRules(mode: "change" | "sweep"): Promise<RulesPass> {
  const startedAt = Date.now();
  let t0 = performance.now();
  const lap = () => {
    const t = performance.now();
    const d = Math.round(t - t0);
    t0 = t;
    return d;
  };
  const drifted = mode === "sweep" ? (await auditAgents()).drifted : 0;
  const audit = lap();
  const pending = await targets(true);
  const read = lap();
  const sets = await compileSets(pending);
  const compile = lap();
  const rec = recorder();
  let applied = 0;
  let failed = 0;
  const counted: Recorder = {
    ...rec,
    applied: (a) => (applied++, rec.applied(a)),
    failed: (t, m, d) => (failed++, rec.failed(t, m, d)),
  };
  await eachLimited(byDpu(pending), DPUS_AT_ONCE, (g) => convergeDpu(g, sets, counted));
  const push = lap();
  await rec.flush();
  return { applied, failed, drifted, startedAt, ms: { audit, read, compile, push, record: Math.round(rec.ms()) } };
}

export const rulesReconcileWorkflow = defineWorkflow(catalog.rulesReconcile, async (mode) => step("converge rules", () => reconcileRules(mode)));

export const rulesSweepSchedule = defineSchedule(schedules.rulesSweep, `*/${RULES_SWEEP_S} * * * * *`, async (t: Date) => {
  await enqueue(catalog.rulesReconcile, ["sweep"], { workflowID: `rules-sweep-${t.toISOString()}` });
});
