// Tests of the lab launcher over real HTTP: a 4-host lab whose parts are wired to each other (DPU BMC → agent URL,
// agent → storage connect, agent host devices → host BMC boot), its enrollment CSV, and that close() frees every
// socket. A second, smaller lab covers the loopback address mode and stable ports across restarts (portBase).
// biome-ignore-all lint/suspicious/noExplicitAny: Redfish/agent/storage JSON bodies are read untyped

import net from "node:net";
import { parse } from "csv-parse/sync";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CSV_HEADER, csvField, type Lab, type LabHostRow, rowsToCsv, startLab } from "./lab";
import { ConsoleClient, basic, resetVia, rf, systemOf, waitFor } from "./redfish/test-helpers";

const nqnOf = (dpuId: string) => `nqn.2014-08.io.anvil:dpu:${dpuId}`;

async function json(url: string, init: RequestInit & { token?: string } = {}): Promise<{ status: number; body: any }> {
  const headers: Record<string, string> = { ...(init.headers as Record<string, string>) };
  if (init.token) headers.authorization = `Bearer ${init.token}`;
  if (init.body) headers["content-type"] = "application/json";
  const res = await fetch(url, { ...init, headers });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

/** Resolves true when something accepts a TCP connection at url's host:port, false when refused. */
function accepts(url: string): Promise<boolean> {
  const u = new URL(url);
  return new Promise((resolve) => {
    const s = net.connect({ host: u.hostname, port: Number(u.port) });
    s.once("connect", () => {
      s.destroy();
      resolve(true);
    });
    s.once("error", () => resolve(false));
  });
}

/** Parses the lab CSV like Anvil's enrollment import does, back into typed rows. */
function parseCsv(text: string): LabHostRow[] {
  const records = parse(text, { columns: true, skip_empty_lines: true }) as Record<string, string>[];
  const nul = (v: string) => (v === "" ? null : v);
  return records.map((r) => ({
    name: r.name,
    pool: r.pool,
    driver: r.driver as "redfish",
    bmc_address: r.bmc_address,
    bmc_username: r.bmc_username,
    bmc_password: r.bmc_password,
    verify_tls: r.verify_tls === "true",
    dpu_bmc_address: nul(r.dpu_bmc_address),
    dpu_bmc_username: nul(r.dpu_bmc_username),
    dpu_bmc_password: nul(r.dpu_bmc_password),
    agent_url: nul(r.agent_url),
    agent_token: nul(r.agent_token),
    dedicated_power: r.dedicated_power === "true",
  }));
}

describe("a 4-host lab", () => {
  let lab: Lab;
  const storage = (path: string, init: RequestInit = {}) => json(`${lab.storage.url}${path}`, { ...init, token: lab.storage.token });

  /** A blank volume exported over NVMe/TCP to `initiator`; returns the target. */
  async function exportedVolume(name: string, initiator: string): Promise<any> {
    const pools = await storage("/v1/logical-pools");
    const pool = pools.body.items.find((p: any) => p.name === "default");
    expect(pool, "the lab's storage has a default logical pool").toBeTruthy();
    const vol = await storage("/v1/volumes", { method: "POST", body: JSON.stringify({ name, logicalPoolId: pool.id, sizeBytes: 10 * 2 ** 30 }) });
    expect(vol.status).toBe(201);
    const t = await storage("/v1/targets", { method: "POST", body: JSON.stringify({ volumeId: vol.body.id, protocol: "nvme-tcp", initiator }) });
    expect(t.status).toBe(201);
    return t.body;
  }

  const diskSpec = (target: any, hostNqn: string) => ({
    transport: "nvme-tcp",
    target: { nqn: target.nqn, address: target.address, port: target.port },
    hostNqn,
    role: "boot",
  });

  beforeAll(async () => {
    lab = await startLab({ hosts: 4, quiet: true });
  });
  afterAll(async () => {
    await lab?.close();
  });

  it("has one row per host, split over the default pools, each with its DPU BMC and agent", () => {
    expect(lab.hosts.map((h) => h.name)).toEqual(["node-0001", "node-0002", "node-0003", "node-0004"]);
    expect(lab.hosts.map((h) => h.pool)).toEqual(["general", "gpu", "general", "gpu"]);
    expect(lab.redfish.bmcs).toHaveLength(8);
    expect(lab.agents.size).toBe(4);
    const tokens = new Set<string>();
    for (const h of lab.hosts) {
      const dpuId = `${h.name}-dpu`;
      expect(h.driver).toBe("redfish");
      expect(h.bmc_address).toBe(lab.redfish.byId(h.name)?.url);
      expect(h.dpu_bmc_address).toBe(lab.redfish.byId(dpuId)?.url);
      expect(h.agent_url).toBe(lab.agents.get(dpuId)?.url);
      expect(h.agent_token).toMatch(/^[0-9a-f]{64}$/);
      tokens.add(h.agent_token as string);
    }
    expect(tokens.size).toBe(4);
    expect(lab.manifest()).toEqual({ redfishAdminUrl: lab.redfish.adminUrl, storage: lab.storage, hosts: lab.hosts });
  });

  it("writes a CSV with the exact header that parses back into the same rows", () => {
    const text = lab.csv();
    expect(text.split("\r\n")[0]).toBe(
      "name,pool,driver,bmc_address,bmc_username,bmc_password,verify_tls,dpu_bmc_address,dpu_bmc_username,dpu_bmc_password,agent_url,agent_token,dedicated_power,dpu_bmc_driver,traits",
    );
    expect(text.split("\r\n")[0]).toBe(CSV_HEADER.join(","));
    expect(parseCsv(text)).toEqual(lab.hosts);
  });

  it("quotes fields per RFC 4180 so awkward values survive a round trip", () => {
    expect(csvField('pa"ss,word')).toBe('"pa""ss,word"');
    expect(csvField(null)).toBe("");
    expect(csvField(true)).toBe("true");
    const row: LabHostRow = {
      ...lab.hosts[0],
      name: "odd,name",
      bmc_password: 'p"w\r\nline2',
      pool: " padded ",
      dpu_bmc_address: null,
      dpu_bmc_username: null,
      dpu_bmc_password: null,
      agent_url: null,
      agent_token: null,
    };
    expect(parseCsv(rowsToCsv([row]))).toEqual([row]);
  });

  it("every BMC answers /redfish/v1/", async () => {
    const roots = await Promise.all(lab.redfish.bmcs.map((b) => rf(b, "/redfish/v1/", { auth: "none" })));
    for (const r of roots) {
      expect(r.status).toBe(200);
      expect(r.json.Systems["@odata.id"]).toBe("/redfish/v1/Systems");
    }
  });

  it("each DPU's Redfish system advertises its own agent's URL", async () => {
    for (const h of lab.hosts) {
      const dpu = lab.redfish.byId(`${h.name}-dpu`);
      if (!dpu) throw new Error("no DPU BMC");
      const sys = await systemOf(dpu);
      expect(sys.SystemType).toBe("DPU");
      expect(sys.Oem.Anvil.AgentUrl).toBe(h.agent_url);
    }
  });

  it("an agent answers its own token and refuses another agent's token and none", async () => {
    const [a, b] = lab.hosts;
    const ok = await json(`${a.agent_url}/v1/health`, { token: a.agent_token as string });
    expect(ok.status).toBe(200);
    expect(ok.body.backend).toBe("sim");
    const other = await json(`${a.agent_url}/v1/health`, { token: b.agent_token as string });
    expect(other.status).toBe(401);
    expect((await json(`${a.agent_url}/v1/disks`)).status).toBe(401);
  });

  it("attaching a disk exported to the DPU's initiator makes its host boot an OS; detaching takes that away", async () => {
    const h = lab.hosts[0];
    const dpuId = `${h.name}-dpu`;
    const host = lab.redfish.byId(h.name);
    if (!host) throw new Error("no host BMC");
    const admin = async () => (await json(`${lab.redfish.adminUrl}/admin/bmcs/${h.name}`)).body;
    expect((await admin()).bootable).toBe(false);

    const target = await exportedVolume("boot-1", nqnOf(dpuId));
    const put = await json(`${h.agent_url}/v1/disks/boot`, {
      method: "PUT",
      token: h.agent_token as string,
      body: JSON.stringify(diskSpec(target, nqnOf(dpuId))),
    });
    expect(put.status, JSON.stringify(put.body)).toBe(201);
    expect(put.body.state).toBe("attached");
    expect((await admin()).bootable).toBe(true);
    // The storage service saw the DPU log in to the target.
    expect((await storage(`/v1/targets/${target.id}`)).body.lastConnectedAt).not.toBeNull();

    // Power on through Redfish (the advertised Reset action) and watch it reach the OS.
    const sys = await systemOf(host);
    const console = await ConsoleClient.open(sys.SerialConsole.WebSocket.ConsoleURI, { authorization: basic(host.username, host.password) });
    try {
      expect((await resetVia(host, "On")).status).toBe(204);
      const running = await waitFor("OSRunning", async () => {
        const s = await systemOf(host);
        return s.BootProgress.LastState === "OSRunning" && s;
      });
      expect(running.PowerState).toBe("On");
      await console.waitText(`${h.name} login: `);
    } finally {
      console.close();
    }

    const del = await fetch(`${h.agent_url}/v1/disks/boot`, { method: "DELETE", headers: { authorization: `Bearer ${h.agent_token}` } });
    expect(del.status).toBe(204);
    expect((await admin()).bootable).toBe(false);
  });

  it("a target exported to another initiator is refused and the host stays without an OS", async () => {
    const h = lab.hosts[1];
    const host = lab.redfish.byId(h.name);
    if (!host) throw new Error("no host BMC");
    // Exported to node-0003's DPU, presented by node-0002's DPU under its own initiator name.
    const target = await exportedVolume("boot-2", nqnOf("node-0003-dpu"));
    const put = await json(`${h.agent_url}/v1/disks/boot`, {
      method: "PUT",
      token: h.agent_token as string,
      body: JSON.stringify(diskSpec(target, nqnOf(`${h.name}-dpu`))),
    });
    expect(put.status).toBe(409);
    expect(JSON.stringify(put.body)).toContain(nqnOf(`${h.name}-dpu`));
    expect((await json(`${lab.redfish.adminUrl}/admin/bmcs/${h.name}`)).body.bootable).toBe(false);

    expect((await resetVia(host, "On")).status).toBe(204);
    const stuck = await waitFor("boot to give up", async () => {
      const s = await systemOf(host);
      return s.PowerState === "On" && s.BootProgress.LastState === "SystemHardwareInitializationComplete" && s;
    });
    // Give the boot its full time (bootMs 300 in the zero profile): still no OS.
    await new Promise((r) => setTimeout(r, 400));
    expect((await systemOf(host)).BootProgress.LastState).toBe(stuck.BootProgress.LastState);
  });

  // Last: it closes the lab the tests above share.
  it("close() leaves nothing listening, even with connections open", async () => {
    const urls = [lab.redfish.adminUrl, lab.storage.url, ...lab.hosts.flatMap((h) => [h.bmc_address, h.dpu_bmc_address as string, h.agent_url as string])];
    expect(urls).toHaveLength(14);
    expect(await Promise.all(urls.map(accepts))).toEqual(urls.map(() => true));
    // Keep-alive connections from the tests above are still open to BMCs, agents and storage; close() must cut them.
    await lab.close();
    expect(await Promise.all(urls.map(accepts))).toEqual(urls.map(() => false));
    await lab.close(); // idempotent
  });
});

describe("lab options", () => {
  it("refuses bad options with a clear message", async () => {
    await expect(startLab({ hosts: 0 })).rejects.toThrow(/hosts must be a positive integer/);
    await expect(startLab({ hosts: 2, pools: ["a", "a"] })).rejects.toThrow(/pool names must be distinct/);
    await expect(startLab({ hosts: 2, pools: ["bad name"] })).rejects.toThrow(/pool name 'bad name'/);
    await expect(startLab({ hosts: 2, latency: "slow" as "zero" })).rejects.toThrow(/latency must be/);
    await expect(startLab({ hosts: 2, address: "netns" })).rejects.toThrow(/unshare -n/);
  });

  it("hosts without a DPU get empty DPU and agent columns; custom tokens and pools are used", async () => {
    const lab = await startLab({ hosts: 3, dpuEvery: 2, pools: ["a", "b", "c"], agentToken: (id) => `token-for-${id}`, quiet: true });
    try {
      expect(lab.hosts.map((h) => [h.name, h.pool, h.agent_token])).toEqual([
        ["node-0001", "a", "token-for-node-0001-dpu"],
        ["node-0002", "b", null],
        ["node-0003", "c", "token-for-node-0003-dpu"],
      ]);
      const bare = lab.hosts[1];
      expect([bare.dpu_bmc_address, bare.dpu_bmc_username, bare.dpu_bmc_password, bare.agent_url]).toEqual([null, null, null, null]);
      expect(lab.csv().split("\r\n")[2]).toMatch(/^node-0002,b,redfish,http:\/\/127\.0\.0\.1:\d+,admin,password,false,,,,,,false,,$/);
      expect((await json(`${lab.hosts[0].agent_url}/v1/health`, { token: "token-for-node-0001-dpu" })).status).toBe(200);
    } finally {
      await lab.close();
    }
  });

  it("loopback mode gives every agent its own 127.20.y.z on one shared port", async () => {
    const lab = await startLab({ hosts: 3, address: "loopback", quiet: true });
    try {
      const urls = lab.hosts.map((h) => new URL(h.agent_url as string));
      expect(urls.map((u) => u.hostname)).toEqual(["127.20.0.1", "127.20.0.2", "127.20.0.3"]);
      expect(new Set(urls.map((u) => u.port)).size).toBe(1);
      expect(new URL(lab.hosts[0].bmc_address).hostname).toMatch(/^127\.10\./);
      for (const h of lab.hosts) {
        expect((await json(`${h.agent_url}/v1/health`, { token: h.agent_token as string })).status).toBe(200);
        const dpu = lab.redfish.byId(`${h.name}-dpu`);
        if (!dpu) throw new Error("no DPU BMC");
        expect((await systemOf(dpu)).Oem.Anvil.AgentUrl).toBe(h.agent_url);
      }
    } finally {
      await lab.close();
    }
  });

  it("with portBase a restarted lab comes back at the same addresses", async () => {
    // Above the kernel's ephemeral range (32768-60999 here) and the simulator's big-fleet runs below it, so neither
    // other tests' port-0 sockets nor a concurrent 10k-BMC test takes these between the two starts.
    const portBase = 61_000 + Math.floor(Math.random() * 4_000);
    const addresses = (lab: Lab) => lab.hosts.flatMap((h) => [h.bmc_address, h.dpu_bmc_address, h.agent_url]);
    const first = await startLab({ hosts: 2, portBase, quiet: true });
    const before = addresses(first);
    await first.close();
    const second = await startLab({ hosts: 2, portBase, quiet: true });
    try {
      expect(addresses(second)).toEqual(before);
      const ports = before.map((u) => Number(new URL(u as string).port));
      expect(Math.min(...ports)).toBeGreaterThanOrEqual(portBase);
      // BMCs first, agents right after them.
      expect(Math.max(...ports)).toBeLessThan(portBase + 64);
    } finally {
      await second.close();
    }
  });
});
