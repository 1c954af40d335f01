// Live rules on the REAL data plane: a running instance's port whose DPU agent is the linux backend on a private
// userspace Open vSwitch. The rules reconciler (the same pass the engine runs after a change) creates the NIC the agent
// does not have, then, after a rule added and removed through the tenant API, replaces its rules through
// PUT /v1/nic-rules; `ofproto/trace` shows the verdict follow each change. A missing Open vSwitch fails the
// test with the package to install.
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as s from "@/db/schema";
import { seal } from "@/server/lib/secrets";
import { useTestDb } from "@/test/db";
import { callerAs, insertHost, insertInstance, insertPool, useFixtures } from "@/test/fixtures";
import { OVS_TOOLS, type OvsLab, requireTools, startOvsLab } from "@/test/ovs-lab";
import { agentNames } from "./instances";
import { reconcileRules } from "./rules";

const TOKEN = "rules-ovs-test";
const PEER_MAC = "02:00:00:00:99:01";
const db = useTestDb();
const fx = useFixtures();

let lab: OvsLab;
let portId = "";
let mac = "";
let address = "";
let groupId = "";
let instanceId = "";
let nicOfport = "";
let dp: Record<string, number> = {};
let nicPort = "";

/** A new tcp connection from the uplink to the NIC's port `port`: does it reach the NIC? */
async function ingressTcpReaches(port: number): Promise<boolean> {
  const flow = `in_port=uplink,dl_vlan=100,dl_src=${PEER_MAC},dl_dst=${mac},tcp,nw_src=198.51.100.9,nw_dst=${address},tp_src=40000,tp_dst=${port}`;
  const { out, text } = await lab.trace(flow, ["trk,new"]);
  expect(text).toContain("Datapath actions");
  return out.includes(dp[nicPort]!);
}

/** This port's NIC as its agent reports it (null when the agent lacks it). */
async function agentNic(): Promise<{ port: string; rulesHash: string } | null> {
  const res = await fetch(`${lab.url}/v1/nics/${agentNames.nic(instanceId)}`, { headers: { authorization: `Bearer ${TOKEN}` } });
  return res.status === 200 ? ((await res.json()) as { port: string; rulesHash: string }) : null;
}

/**
 * Runs reconciler passes until this port's desired rules are the ones its agent enforces. The run shares one database
 * with other test files, whose engines run passes over every pending port (ours too) at any moment, and whose
 * made-up instances a pass may fail on: so what counts is this port's state, not a pass's totals.
 */
async function converge(): Promise<void> {
  for (let i = 0; i < 50; i++) {
    await reconcileRules("change");
    const [p] = await db.select().from(s.ports).where(eq(s.ports.id, portId));
    const nic = await agentNic();
    if (p!.appliedRulesVersion >= p!.rulesVersion && nic && p!.rulesAppliedHash === nic.rulesHash) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error("the port's rules never reached its agent");
}

describe("live rules on Open vSwitch (ofproto/trace)", () => {
  beforeAll(async () => {
    requireTools(OVS_TOOLS);
    lab = await startOvsLab({ prefix: "anvil-rules-ovs-", token: TOKEN });
    const t = callerAs(fx, "tenantMember");
    const admin = callerAs(fx, "tenantAdmin");
    const vpc = await admin.vpcs.create({ tenant: fx.tenant.slug, name: "live", cidr: "10.5.0.0/16" });
    const subnet = await admin.subnets.create({ tenant: fx.tenant.slug, vpcId: vpc.id, name: "web", cidr: "10.5.1.0/24", vlanId: 100 } as never);
    const group = await t.securityGroups.create({ tenant: fx.tenant.slug, vpcId: vpc.id, name: "web" } as never);
    groupId = group.id;
    const port = await t.ports.create({ tenant: fx.tenant.slug, subnetId: subnet.id, name: "live-nic", securityGroupIds: [group.id] } as never);
    portId = port.id;
    mac = port.mac;
    address = port.address;
    const pool = await insertPool(db);
    const host = await insertHost(db, { kind: "host" } as never);
    await insertHost(db, { kind: "dpu", parentNodeId: host.id, agentUrl: lab.url, agentToken: seal(TOKEN) } as never);
    const inst = await insertInstance(db, { tenantId: fx.tenant.id, poolId: pool.id, state: "running", nodeId: host.id, portId, subnetId: subnet.id });
    instanceId = inst.id;
    await db.update(s.ports).set({ nodeId: host.id }).where(eq(s.ports.id, portId));
  }, 60_000);

  afterAll(async () => {
    await lab?.close();
  });

  it("the first pass creates the NIC the agent lacks, with the group's rules (nothing in yet)", async () => {
    expect(await agentNic()).toBeNull();
    await converge();
    const nic = (await agentNic())!;
    nicPort = nic.port;
    nicOfport = (await lab.must("ovs-vsctl", ["get", "Interface", nicPort, "ofport"])).trim();
    expect(nicOfport).toMatch(/^\d+$/);
    dp = await lab.datapathPorts();
    const [p] = await db.select().from(s.ports).where(eq(s.ports.id, portId));
    expect(p!.rulesAppliedHash).toBe(nic.rulesHash);
    expect(await ingressTcpReaches(22)).toBe(false);
  });

  it("a rule added through the API is enforced after the pass; removing it stops it again", async () => {
    const t = callerAs(fx, "tenantMember");
    const [before] = await db.select().from(s.ports).where(eq(s.ports.id, portId));
    const rule = await t.securityGroups.addRule({
      tenant: fx.tenant.slug,
      groupId,
      direction: "ingress",
      ethertype: "ipv4",
      protocol: "tcp",
      portMin: 22,
      remoteCidr: "198.51.100.0/24",
    } as never);
    // Desired moved in the change's transaction; a pass brings it to the agent.
    const [changed] = await db.select().from(s.ports).where(eq(s.ports.id, portId));
    expect(changed!.rulesVersion).toBeGreaterThan(before!.rulesVersion);
    await converge();
    expect(await ingressTcpReaches(22)).toBe(true);
    expect(await ingressTcpReaches(23)).toBe(false);

    await t.securityGroups.deleteRule({ tenant: fx.tenant.slug, id: rule.id });
    await converge();
    expect(await ingressTcpReaches(22)).toBe(false);
    // Nothing pending for this port: a sweep agrees with its agent and leaves it as it is.
    const hash = (await agentNic())!.rulesHash;
    await reconcileRules("sweep");
    expect((await agentNic())!.rulesHash).toBe(hash);
    expect(await ingressTcpReaches(22)).toBe(false);
  });
});
