// Live security rules against the lab: a rule change reaches every running NIC's DPU agent (the agent's rules equal
// the compiled set), a DPU whose agent is down is named and converges once it is back, an agent restarted with empty
// state gets its NIC and rules back from the sweep, a port's group change is applied, and a NIC whose rules its DPU
// fails to apply (one item of the DPU's batch) is named like a DPU down while the pass's other NICs are applied; an
// older agent without the batch endpoint gets one request per NIC.
import { createServer } from "node:http";
import { and, eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import * as s from "@/db/schema";
import { createAgentServer } from "@/agent/server";
import { rulesStatusText } from "@/domain/rules-status";
import { compileRuleSet, loadCompileInput } from "@/server/domain/rule-compiler";
import { useTestDb } from "@/test/db";
import { instanceInput, useEngineLab } from "@/test/engine";
import { callerAs } from "@/test/fixtures";
import { waitOperation } from "@/test/instance-lab";
import { catalog } from "./catalog";
import { getEngine } from "./engine";
import { agentFor, agentNames } from "./instances";
import { enqueue, enqueuePass } from "./start";

const db = useTestDb();
const { fx, L } = useEngineLab({
  executor: "rules",
  hosts: 3,
  env: { ANVIL_RULES_RETRY_MS: "100", ANVIL_RULES_RETRY_MAX_MS: "400", ANVIL_RULES_AGENT_TIMEOUT_MS: "2000" },
});
const tenant = () => callerAs(fx, "tenantMember");

interface Srv {
  id: string;
  portId: string;
  dpu: typeof s.nodes.$inferSelect;
}
const servers: Srv[] = [];

async function waitFor<T>(what: string, fn: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 20_000): Promise<T> {
  const t0 = Date.now();
  for (;;) {
    const v = await fn();
    if (ok(v)) return v;
    if (Date.now() - t0 > timeoutMs) throw new Error(`${what}: still ${JSON.stringify(v)} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The lab's id of the server's DPU agent (the lab knows agents by their URL's DPU, the database by node id). */
function labDpu(srv: Srv): string {
  for (const [id, a] of L.lab.agents) if (a.url === srv.dpu.agentUrl) return id;
  throw new Error(`no lab agent at ${srv.dpu.agentUrl}`);
}

/** The rules the agent of the server's DPU enforces on its NIC, or null when it has no such NIC. */
async function agentRules(srv: Srv) {
  const nic = await agentFor(srv.dpu).getNic(agentNames.nic(srv.id));
  return nic ? nic.rules : null;
}
const compiled = async (srv: Srv) => JSON.parse(JSON.stringify(compileRuleSet(await loadCompileInput(db, srv.portId))));

async function defaultGroup() {
  const [g] = await db
    .select()
    .from(s.securityGroups)
    .where(and(eq(s.securityGroups.vpcId, L.vpcId), eq(s.securityGroups.isDefault, true)));
  return g!;
}
const groupStatus = async () => tenant().securityGroups.rulesStatus({ tenant: fx.tenant.slug, id: (await defaultGroup()).id });
const allApplied = (st: { applied: number; total: number }) => st.total === servers.length && st.applied === st.total;
/** Adds an ingress rule for a TCP port from anywhere to the VPC's default group, through the API. */
async function allowTcpIn(port: number) {
  const g = await defaultGroup();
  await tenant().securityGroups.addRule({
    tenant: fx.tenant.slug,
    groupId: g.id,
    direction: "ingress",
    ethertype: "ipv4",
    protocol: "tcp",
    portMin: port,
    remoteCidr: "0.0.0.0/0",
  } as never);
}
/** Runs one sweep pass (the schedule's work) to its end. */
const sweep = async () => getEngine().result(await enqueue(catalog.rulesReconcile, ["sweep"]));

describe("live security rules", () => {
  it("creates three servers on three DPUs, each NIC applied at create", async () => {
    for (let i = 0; i < 3; i++) {
      const r = await tenant().instances.create(instanceInput(fx, L));
      expect((await waitOperation(db, r.operationId)).status).toBe("succeeded");
      const [inst] = await db.select().from(s.instances).where(eq(s.instances.id, r.id));
      const [dpu] = await db
        .select()
        .from(s.nodes)
        .where(and(eq(s.nodes.parentNodeId, inst!.nodeId!), eq(s.nodes.kind, "dpu")));
      servers.push({ id: r.id, portId: inst!.portId!, dpu: dpu! });
    }
    expect(new Set(servers.map((x) => x.dpu.id)).size).toBe(3);
    // The default group lets in its own members (compiled to their addresses): each later server's address reached
    // the servers already running, whose compiled rules then differ from those they got at their own create.
    for (const srv of servers) await expect.poll(() => agentRules(srv), { timeout: 20_000 }).toEqual(await compiled(srv));
    const st = await groupStatus();
    expect(st).toEqual({ total: 3, applied: 3, failingDpus: [], lastError: null });
    expect(rulesStatusText(st)).toBe("applied on 3 of 3 NICs");
  });

  it("a new rule reaches every NIC: the agents' rules equal the compiled set", async () => {
    const before = await agentRules(servers[0]!);
    await allowTcpIn(22);
    await waitFor("group status", groupStatus, allApplied);
    for (const srv of servers) expect(await agentRules(srv)).toEqual(await compiled(srv));
    expect(await agentRules(servers[0]!)).not.toEqual(before);
    expect(JSON.stringify(await agentRules(servers[0]!))).toContain("22");
    const inst = await tenant().instances.rulesStatus({ tenant: fx.tenant.slug, id: servers[0]!.id });
    expect(rulesStatusText(inst)).toBe("applied on 1 of 1 NIC");
  });

  it("a burst of rule changes costs one waiting pass, not one each, and every change is applied", async () => {
    const outcomes: string[] = [];
    for (const port of [2201, 2202, 2203, 2204, 2205, 2206, 2207, 2208]) {
      // Each change commits (desired versions bumped), then asks for a pass, as the routers do.
      await allowTcpIn(port);
      outcomes.push(await enqueuePass(catalog.rulesReconcile, ["change"]));
    }
    // The engine dequeues a waiting pass at its next poll; within the burst most requests find one waiting (without
    // coalescing: a pass per request). Counted from this burst's own requests: the run shares one database, where other
    // files' creates and deletes enqueue passes too.
    expect(outcomes.filter((o) => o === "coalesced").length).toBeGreaterThanOrEqual(4);
    await waitFor("group status", groupStatus, allApplied);
    for (const srv of servers) expect(await agentRules(srv)).toEqual(await compiled(srv));
    expect(JSON.stringify(await agentRules(servers[0]!))).toContain("2208");
  });

  it("an agent that is down is named; once it is back the rules converge", async () => {
    const down = servers[2]!;
    const dpuName = down.dpu.name;
    await L.lab.stopAgent(labDpu(down));
    try {
      const g = await defaultGroup();
      const rule = await tenant().securityGroups.addRule({
        tenant: fx.tenant.slug,
        groupId: g.id,
        direction: "ingress",
        ethertype: "ipv4",
        protocol: "udp",
        portMin: 53,
        remoteCidr: "10.0.0.0/8",
      } as never);
      const st = await waitFor("the down DPU named", groupStatus, (x) => x.applied === 2 && x.failingDpus.length === 1);
      expect(st.failingDpus).toEqual([dpuName]);
      expect(rulesStatusText(st)).toBe(`applied on 2 of 3 NICs — DPU ${dpuName} unreachable`);
      for (const srv of servers.slice(0, 2)) expect(await agentRules(srv)).toEqual(await compiled(srv));
      const [p] = await db.select().from(s.ports).where(eq(s.ports.id, down.portId));
      expect(p!.rulesError).toMatch(/unreachable/);
      expect(p!.rulesErrorDpuId).toBe(down.dpu.id);
      expect(p!.rulesAttempts).toBeGreaterThan(0);
      expect(rule.id).toBeTruthy();
    } finally {
      // The lab's agent comes back empty (its process died): the sweep re-creates the NIC with the current rules.
      await L.lab.startAgent(labDpu(down));
    }
    // The retry (backoff) runs from a pass: the sweep's, here run by hand.
    await waitFor("converged after the agent came back", async () => (await sweep(), groupStatus()), allApplied);
    for (const srv of servers) expect(await agentRules(srv)).toEqual(await compiled(srv));
    const [p] = await db.select().from(s.ports).where(eq(s.ports.id, down.portId));
    expect(p).toMatchObject({ rulesError: null, rulesErrorDpuId: null, rulesAttempts: 0 });
  });

  it("an agent restarted with empty state gets the NIC and its rules back from the sweep", async () => {
    const srv = servers[1]!;
    const dpuId = labDpu(srv);
    await L.lab.startAgent(dpuId); // restart: a fresh agent, no NICs
    expect(await agentRules(srv)).toBeNull();
    const pass = (await sweep()) as { drifted: number; applied: number };
    // At least this NIC (the run shares one database: other files' agents may be found drifted too).
    expect(pass.drifted).toBeGreaterThanOrEqual(1);
    expect(pass.applied).toBeGreaterThanOrEqual(1);
    expect(await agentRules(srv)).toEqual(await compiled(srv));
    const nic = await agentFor(srv.dpu).getNic(agentNames.nic(srv.id));
    const [p] = await db.select().from(s.ports).where(eq(s.ports.id, srv.portId));
    expect(p!.rulesAppliedHash).toBe(nic?.rulesHash);
    expect(p!.appliedRulesVersion).toBe(p!.rulesVersion);
    // A sweep over an agent that agrees leaves its NIC as it is (the pass's totals count the whole shared database).
    await sweep();
    expect((await agentFor(srv.dpu).getNic(agentNames.nic(srv.id)))?.rulesHash).toBe(nic?.rulesHash);
    const [after] = await db.select().from(s.ports).where(eq(s.ports.id, srv.portId));
    expect(after).toMatchObject({ rulesError: null, appliedRulesVersion: p!.rulesVersion, rulesAppliedHash: nic?.rulesHash });
  });

  it("a port's group change is applied to its NIC", async () => {
    const srv = servers[0]!;
    const t = tenant();
    const web = await t.securityGroups.create({ tenant: fx.tenant.slug, vpcId: L.vpcId, name: "web" } as never);
    await t.securityGroups.addRule({
      tenant: fx.tenant.slug,
      groupId: web.id,
      direction: "ingress",
      ethertype: "ipv4",
      protocol: "tcp",
      portMin: 443,
      remoteCidr: "0.0.0.0/0",
    } as never);
    await t.ports.update({ tenant: fx.tenant.slug, id: srv.portId, securityGroupIds: [web.id] } as never);
    await waitFor(
      "instance status",
      () => t.instances.rulesStatus({ tenant: fx.tenant.slug, id: srv.id }),
      (x) => x.total === 1 && x.applied === 1,
    );
    const rules = await agentRules(srv);
    expect(rules).toEqual(await compiled(srv));
    expect(JSON.stringify(rules)).toContain("443");
    expect(JSON.stringify(rules)).not.toContain("53"); // the default group's rules are gone from this NIC
    const webStatus = await t.securityGroups.rulesStatus({ tenant: fx.tenant.slug, id: web.id });
    expect(rulesStatusText(webStatus)).toBe("applied on 1 of 1 NIC");
  });

  it("a NIC whose rules the DPU fails to apply is named with its DPU, the others of the pass still applied; it converges once the DPU recovers", async () => {
    const srv = servers[1]!; // servers 1 and 2 are the default group's NICs now (server 0 moved to "web")
    const agent = L.lab.agents.get(labDpu(srv))!;
    const faults = (body: unknown) =>
      fetch(`${agent.url}/admin/faults`, {
        method: "PUT",
        headers: { authorization: `Bearer ${agent.token}`, "content-type": "application/json" },
        body: JSON.stringify(body),
      });
    expect((await faults({ failAlways: ["updateNicRules"] })).status).toBe(200);
    try {
      await allowTcpIn(2300);
      // The other DPU's record may land after this one's failure: wait for both.
      const st = await waitFor("the failing DPU named", groupStatus, (x) => x.failingDpus.length === 1 && x.applied === 1);
      expect(st).toMatchObject({ total: 2, applied: 1, failingDpus: [srv.dpu.name] });
      expect(rulesStatusText(st)).toBe(`applied on 1 of 2 NICs — DPU ${srv.dpu.name} unreachable`);
      expect(await agentRules(servers[2]!)).toEqual(await compiled(servers[2]!));
      const [p] = await db.select().from(s.ports).where(eq(s.ports.id, srv.portId));
      expect(p!.rulesError).toMatch(/injected|simulated/);
      expect(p!.rulesAttempts).toBeGreaterThan(0);
      expect(p!.rulesRetryAt).not.toBeNull();
    } finally {
      await faults({});
    }
    await waitFor(
      "converged after the DPU recovered",
      async () => (await sweep(), groupStatus()),
      (x) => x.total === 2 && x.applied === 2,
    );
    expect(await agentRules(srv)).toEqual(await compiled(srv));
    const [p] = await db.select().from(s.ports).where(eq(s.ports.id, srv.portId));
    expect(p).toMatchObject({ rulesError: null, rulesErrorDpuId: null, rulesAttempts: 0 });
  });

  it("an agent without PUT /v1/nic-rules (an older version) gets one request per NIC, and a NIC it lacks re-created", async () => {
    const srv = servers[1]!;
    const lab = L.lab.agents.get(labDpu(srv))!;
    const at = new URL(lab.url);
    // The older agent: a fresh one (no NICs) behind a proxy at the lab agent's address that does not know the batch.
    await L.lab.stopAgent(labDpu(srv));
    const inner = createAgentServer({ token: lab.token });
    const innerUrl = (await inner.listen(0)).url;
    const seen: string[] = [];
    const older = createServer((req, res) => {
      seen.push(`${req.method} ${req.url}`);
      if (req.url === "/v1/nic-rules") {
        res.writeHead(404, { "content-type": "application/json" });
        res.end(JSON.stringify({ error: { code: "not_found", message: "no such endpoint: /v1/nic-rules" } }));
        return;
      }
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", async () => {
        const body = Buffer.concat(chunks);
        const up = await fetch(innerUrl + req.url, {
          method: req.method,
          headers: { authorization: req.headers.authorization ?? "", ...(body.length ? { "content-type": "application/json" } : {}) },
          body: body.length ? body : undefined,
        });
        res.writeHead(up.status, { "content-type": up.headers.get("content-type") ?? "application/json" });
        res.end(Buffer.from(await up.arrayBuffer()));
      });
    });
    await new Promise<void>((r) => older.listen(Number(at.port), at.hostname, r));
    try {
      await allowTcpIn(2400);
      await waitFor("applied through the older agent", groupStatus, (x) => x.total === 2 && x.applied === 2);
      const nic = agentNames.nic(srv.id);
      expect(seen).toEqual(expect.arrayContaining(["PUT /v1/nic-rules", `PUT /v1/nics/${nic}/rules`, `PUT /v1/nics/${nic}`]));
      expect(await agentRules(srv)).toEqual(await compiled(srv));
      expect(JSON.stringify(await agentRules(srv))).toContain("2400");
    } finally {
      await new Promise<void>((r) => {
        older.close(() => r());
        older.closeAllConnections();
      });
      await inner.close();
      await L.lab.startAgent(labDpu(srv));
    }
    // The lab's agent is back (empty): the sweep gives it the NIC and its rules again.
    await waitFor(
      "converged on the lab's agent",
      async () => (await sweep(), agentRules(srv)),
      (r) => r !== null,
    );
    expect(await agentRules(srv)).toEqual(await compiled(srv));
  });

  it("a deleted server's address leaves the rules of the servers still running", async () => {
    const gone = servers[2]!;
    const kept = servers[1]!; // still in the default group, whose rules let its members in
    const before = JSON.stringify(await agentRules(kept));
    const r = await tenant().instances.delete({ tenant: fx.tenant.slug, id: gone.id } as never);
    expect((await waitOperation(db, r.operationId)).status).toBe("succeeded");
    await expect.poll(() => agentRules(kept), { timeout: 20_000 }).toEqual(await compiled(kept));
    expect(JSON.stringify(await agentRules(kept))).not.toBe(before);
  });
});
