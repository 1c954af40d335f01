// Tests of the DPU agent client against a real agent server (sim backend, fault injection via /admin/faults):
// every resource round-trips, 5xx faults are retried within bounds, 4xx are not, deletes are idempotent,
// unreachable and hanging agents fail with a clear, typed error.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type AgentServer, createAgentServer } from "@/agent/server";
import { createDpuAgentClient, type DpuAgentClient, DpuAgentError } from "./client";

const TOKEN = "client-test-token-1234";
let agent: AgentServer;
let url: string;
let client: DpuAgentClient;
let hanging: Server;
let hangingUrl: string;

async function setFaults(faults: unknown) {
  const res = await fetch(`${url}/admin/faults`, {
    method: "PUT",
    headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
    body: JSON.stringify(faults),
  });
  expect(res.status).toBe(200);
}

const disk = {
  transport: "nvme-tcp" as const,
  target: { nqn: "nqn.2024-01.io.anvil:vol-1", address: "127.0.0.1", port: 4420 },
  hostNqn: "nqn.2014-08.io.anvil:dpu:7",
  role: "boot" as const,
};
const nic = { mac: "02:00:00:00:00:0A", network: { type: "vlan" as const, vlanId: 100 }, rules: { ingress: [], egress: [] } };

beforeAll(async () => {
  agent = createAgentServer({ token: TOKEN, admin: true });
  ({ url } = await agent.listen(0, "127.0.0.1"));
  client = createDpuAgentClient({ baseUrl: url, token: TOKEN, retries: 2, retryDelayMs: 5, timeoutMs: 2000 });
  // Accepts connections and never answers: the timeout path.
  hanging = createServer(() => {});
  await new Promise<void>((r) => hanging.listen(0, "127.0.0.1", r));
  hangingUrl = `http://127.0.0.1:${(hanging.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await agent.close();
  hanging.closeAllConnections();
  await new Promise((r) => hanging.close(r));
});

beforeEach(async () => {
  await setFaults({ failNext: {}, failAlways: [], errorRate: 0 });
  await client.reset();
});

describe("DPU agent client", () => {
  it("attaches a disk, publishes cidata, creates a NIC, lists and deletes them", async () => {
    const d = await client.putDisk("i-1-boot", disk);
    expect(d.name).toBe("i-1-boot");
    await client.putCidata("i-1", { userData: "#cloud-config\n", metaData: { "instance-id": "i-1" } });
    const n = await client.putNic("i-1-eth0", nic);
    expect(n.name).toBe("i-1-eth0");
    expect((await client.listDisks()).map((x) => x.name)).toEqual(["i-1-boot"]);
    expect((await client.listCidata()).map((x) => x.name)).toEqual(["i-1"]);
    expect((await client.listNics()).map((x) => x.name)).toEqual(["i-1-eth0"]);
    expect(await client.getNic("i-1-eth0")).not.toBeNull();
    await client.putNicRules("i-1-eth0", { ingress: [{ id: "ssh", ethertype: "ipv4", protocol: "tcp", portMin: 22, cidr: "0.0.0.0/0" }], egress: [] });
    const ssh = { ingress: [{ id: "ssh", ethertype: "ipv4" as const, protocol: "tcp" as const, portMin: 2222, cidr: "0.0.0.0/0" }], egress: [] };
    const batch = await client.putNicRulesBatch([
      { name: "i-1-eth0", rules: ssh },
      { name: "i-2-eth0", rules: ssh },
    ]);
    expect(batch).toEqual([
      { name: "i-1-eth0", rulesHash: (await client.getNic("i-1-eth0"))!.rulesHash },
      { name: "i-2-eth0", status: 404, error: expect.objectContaining({ code: "not_found" }) },
    ]);
    expect((await client.getNic("i-1-eth0"))!.rules).toEqual(ssh);

    await client.deleteNic("i-1-eth0");
    await client.deleteCidata("i-1");
    await client.deleteDisk("i-1-boot");
    expect(await client.listDisks()).toEqual([]);
    expect(await client.listNics()).toEqual([]);
    expect(await client.getDisk("i-1-boot")).toBeNull();
    // Deleting again is not an error (compensations may run twice).
    await client.deleteDisk("i-1-boot");
    await client.deleteNic("i-1-eth0");
  });

  it("retries a transient backend failure and succeeds", async () => {
    await setFaults({ failNext: { attachDisk: 2 } });
    const d = await client.putDisk("i-2-boot", disk);
    expect(d.name).toBe("i-2-boot");
  });

  it("gives up after the bounded retries with the agent's code and message", async () => {
    await setFaults({ failAlways: ["createNic"] });
    const err = await client.putNic("i-3-eth0", nic).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DpuAgentError);
    expect((err as DpuAgentError).status).toBeGreaterThanOrEqual(500);
    expect((err as DpuAgentError).transient).toBe(true);
    expect((err as DpuAgentError).message).toMatch(/^DPU agent: /);
    expect(await client.listNics()).toEqual([]);
  });

  it("does not retry validation errors and names the field", async () => {
    const err = (await client.putDisk("i-4-boot", { ...disk, hostNqn: "not-an-nqn" }).catch((e: unknown) => e)) as DpuAgentError;
    expect(err).toBeInstanceOf(DpuAgentError);
    expect(err.status).toBe(422);
    expect(err.field).toBe("hostNqn");
    expect(err.transient).toBe(false);
  });

  it("rejects a wrong token with 401 and no retry", async () => {
    const bad = createDpuAgentClient({ baseUrl: url, token: "wrong-token-000000", retryDelayMs: 5 });
    const err = (await bad.listDisks().catch((e: unknown) => e)) as DpuAgentError;
    expect(err.status).toBe(401);
    expect(err.transient).toBe(false);
  });

  it("reports an unreachable agent and a hanging one as transient network errors", async () => {
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, "127.0.0.1", r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((r) => closed.close(r));
    const down = createDpuAgentClient({ baseUrl: `http://127.0.0.1:${port}`, token: TOKEN, retries: 1, retryDelayMs: 5 });
    const e1 = (await down.listDisks().catch((e: unknown) => e)) as DpuAgentError;
    expect(e1).toBeInstanceOf(DpuAgentError);
    expect(e1.code).toBe("unreachable");
    expect(e1.status).toBe(0);

    const slow = createDpuAgentClient({ baseUrl: hangingUrl, token: TOKEN, retries: 1, retryDelayMs: 5, timeoutMs: 150 });
    const t0 = Date.now();
    const e2 = (await slow.listDisks().catch((e: unknown) => e)) as DpuAgentError;
    expect(e2.code).toBe("timeout");
    expect(Date.now() - t0).toBeLessThan(2000);
  });
});
