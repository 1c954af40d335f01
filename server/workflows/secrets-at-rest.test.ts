// No secret at rest in plaintext, anywhere in the database: after a single enroll (host + DPU BMC + DPU agent token),
// a bulk CSV enroll (host and DPU BMC passwords, agent tokens, a refused row with a wrong password), the inspection
// of an enrolled host (which records the DPU it discovers with credentials), a power action and a sync pass, EVERY
// text/json/jsonb/bytea/array column of EVERY table in EVERY schema (the workflow engine's "dbos" schema included:
// workflow inputs, step outputs, errors) is searched for each secret — as is, in base64 / base64url at any byte
// alignment, and in hex (how a bytea reads as text). Real Redfish simulators, a real DPU agent, the real engine.
import crypto from "node:crypto";
import { eq } from "drizzle-orm";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type AgentServer, createAgentServer } from "@/agent/server";
import * as s from "@/db/schema";
import { type RedfishSim, startRedfishSim } from "@/sim/redfish";
import { uniq, useTestDb } from "@/test/db";
import { callerAs, type Fixtures, makeFixtures } from "@/test/fixtures";
import { waitOperation } from "@/test/instance-lab";
import { startEngine, stopEngine } from "./engine";
import { workflows } from "./registry";
import { syncShard } from "./sync";

const canary = (what: string) => `AnvilCanary${what}${crypto.randomBytes(9).toString("hex")}`;
const SECRETS = {
  singleHostPassword: canary("SingleHostBmc"),
  singleDpuPassword: canary("SingleDpuBmc"),
  singleAgentToken: canary("SingleAgentToken"),
  bulkHostPassword: canary("BulkHostBmc"),
  bulkDpuPassword: canary("BulkDpuBmc"),
  bulkAgentToken1: canary("BulkAgentTokenOne"),
  bulkAgentToken2: canary("BulkAgentTokenTwo"),
  bulkWrongPassword: canary("BulkWrongPassword"),
};

/**
 * Substrings that any base64 / base64url encoding of a larger value containing `secret` must contain, whatever the
 * secret's byte offset in that value (3 alignments), plus its hex form (a bytea column cast to text).
 */
function needles(secret: string): string[] {
  const bytes = Buffer.from(secret, "utf8");
  const out = new Set<string>([secret, bytes.toString("hex")]);
  for (let k = 0; k < 3; k++) {
    const enc = Buffer.concat([Buffer.alloc(k), bytes]).toString("base64");
    const core = enc.slice(Math.ceil((8 * k) / 6), Math.floor((k + bytes.length) / 3) * 4);
    out.add(core);
    out.add(core.replaceAll("+", "-").replaceAll("/", "_"));
  }
  return [...out];
}

let fx: Fixtures;
let sims: { singleHost: RedfishSim; singleDpu: RedfishSim; bulkHost: RedfishSim; bulkDpu: RedfishSim };
let agent: AgentServer;
let agentUrl: string;
let pgc: pg.Client;
const db = useTestDb();
const admin = () => callerAs(fx, "operatorAdmin");

beforeAll(async () => {
  fx = await makeFixtures(db);
  const sim = (password: string) => startRedfishSim({ hosts: 2, password, powerTransitionMs: 20, bootMs: 20 });
  sims = {
    singleHost: await sim(SECRETS.singleHostPassword),
    singleDpu: await sim(SECRETS.singleDpuPassword),
    bulkHost: await sim(SECRETS.bulkHostPassword),
    bulkDpu: await sim(SECRETS.bulkDpuPassword),
  };
  agent = createAgentServer({ token: SECRETS.singleAgentToken });
  agentUrl = (await agent.listen(0, "127.0.0.1")).url;
  await startEngine(workflows, { databaseUrl: process.env.DATABASE_URL!, executorId: `secrets-${uniq()}`, schedules: false });
  pgc = new pg.Client({ connectionString: process.env.DATABASE_URL });
  await pgc.connect();
}, 60_000);

afterAll(async () => {
  await pgc?.end();
  await stopEngine();
  await agent?.close();
  await Promise.all(Object.values(sims ?? {}).map((x) => x.close()));
});

interface Hit {
  where: string;
  secret: string;
}

/** Every column of every table that can hold text, searched for every needle of every secret. */
async function scanDatabase(): Promise<{ hits: Hit[]; columns: number; schemas: string[] }> {
  const cols = await pgc.query<{ table_schema: string; table_name: string; column_name: string }>(`
    select c.table_schema, c.table_name, c.column_name
    from information_schema.columns c
    join information_schema.tables t on t.table_schema = c.table_schema and t.table_name = c.table_name and t.table_type = 'BASE TABLE'
    where c.table_schema not in ('pg_catalog', 'information_schema') and c.table_schema not like 'pg_toast%'
      and (c.data_type in ('text', 'character varying', 'character', 'json', 'jsonb', 'bytea', 'USER-DEFINED', 'ARRAY'))
    order by 1, 2, 3`);
  const all = Object.entries(SECRETS).flatMap(([name, secret]) => needles(secret).map((n) => ({ name, n })));
  const hits: Hit[] = [];
  const q = (id: string) => `"${id.replaceAll('"', '""')}"`;
  for (const c of cols.rows) {
    const found = await pgc.query<{ n: string }>(
      `select distinct n from ${q(c.table_schema)}.${q(c.table_name)} t, unnest($1::text[]) n where strpos(t.${q(c.column_name)}::text, n) > 0`,
      [all.map((a) => a.n)],
    );
    for (const r of found.rows) hits.push({ where: `${c.table_schema}.${c.table_name}.${c.column_name}`, secret: all.find((a) => a.n === r.n)!.name });
  }
  return { hits, columns: cols.rows.length, schemas: [...new Set(cols.rows.map((c) => c.table_schema))] };
}

describe("secrets at rest", () => {
  it("finds no BMC password or agent token in plaintext or base64 in any table after enroll, bulk enroll, inspect, power and sync", async () => {
    // 1. One node through the form: host BMC, DPU BMC with its own password, DPU agent URL + token (the agent's registration).
    const h = sims.singleHost.byId("node-0001")!;
    const d = sims.singleDpu.byId("node-0001-dpu")!;
    const single = await admin().nodes.enroll({
      name: uniq("sec"),
      driver: "redfish",
      address: h.url,
      username: h.username,
      password: SECRETS.singleHostPassword,
      verifyTls: false,
      dpu: { address: d.url, username: d.username, password: SECRETS.singleDpuPassword, agentUrl, agentToken: SECRETS.singleAgentToken },
    });
    expect(single.ok).toBe(true);

    // 2. A CSV: two hosts with their DPUs and agent tokens, and one row refused for a wrong password.
    const bh = (i: number) => sims.bulkHost.byId(`node-000${i}`)!;
    const bd = (i: number) => sims.bulkDpu.byId(`node-000${i}-dpu`)!;
    const names = [uniq("secb"), uniq("secb"), uniq("secb")];
    const csv = [
      "name,pool,driver,bmc_address,bmc_username,bmc_password,verify_tls,dpu_bmc_address,dpu_bmc_username,dpu_bmc_password,agent_url,agent_token",
      `${names[0]},,redfish,${bh(1).url},admin,${SECRETS.bulkHostPassword},false,${bd(1).url},admin,${SECRETS.bulkDpuPassword},${agentUrl},${SECRETS.bulkAgentToken1}`,
      `${names[1]},,redfish,${bh(2).url},admin,${SECRETS.bulkHostPassword},false,${bd(2).url},admin,${SECRETS.bulkDpuPassword},${agentUrl},${SECRETS.bulkAgentToken2}`,
      `${names[2]},,redfish,${sims.singleHost.byId("node-0002")!.url},admin,${SECRETS.bulkWrongPassword},false,,,,,`,
    ].join("\n");
    const bulk = await admin().nodes.enrollBulk({ csv });
    const op = await waitOperation(db, bulk.operationId);
    expect((op.result as { enrolled: number }).enrolled).toBe(2);

    // 3. Inspect a bulk-enrolled host (records the DPU it finds, with credentials), power it on, sync every shard.
    const [n] = await db.select().from(s.nodes).where(eq(s.nodes.name, names[0]!));
    const [insp] = await admin().nodes.inspect({ ids: [n!.id] });
    const inspected = await waitOperation(db, insp!.operationId!);
    expect(inspected.status, JSON.stringify({ error: inspected.error, steps: inspected.steps })).toBe("succeeded");
    const [pw] = await admin().nodes.power({ ids: [n!.id], action: "on" });
    const powered = await waitOperation(db, pw!.operationId!);
    expect(powered.status, JSON.stringify({ error: powered.error, steps: powered.steps })).toBe("succeeded");
    for (let shard = 0; shard < 16; shard++) await syncShard(shard, 0);

    // The secrets did reach the database — sealed — so the scan below is looking at the right rows.
    const sealed = await db.select({ c: s.nodes.bmcCredentials, t: s.nodes.agentToken }).from(s.nodes);
    expect(sealed.filter((r) => r.t).length).toBeGreaterThanOrEqual(3);

    const { hits, columns, schemas } = await scanDatabase();
    expect(schemas).toContain("dbos");
    expect(columns).toBeGreaterThan(50);
    expect(hits).toEqual([]);
  }, 120_000);
});
