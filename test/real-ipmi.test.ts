// An IPMI host of the real lab (sim/real/lab.ts ipmiHosts: a QEMU machine behind OpenIPMI's ipmi_sim, with its own
// emulated DPU whose DPU BMC is a Redfish-sim DPU-only entry) driven by Anvil end to end, on a real Postgres and the
// real workflow engine: the lab's row is enrolled (driver "ipmi"), inspected and provided through sim/lab-bootstrap.ts;
// the lab's Debian guest is imported into Ceph as a public image; a tenant creates an instance in the host's pool
// with user data setting a password; Anvil's console path for the node (backendForNode, what the WebSocket proxy
// opens: IPMI SOL) shows `<hostname> login:` and the password logs in; deleting the instance powers the host off
// (IPMI chassis status, asked through Anvil's driver) and leaves no function on the DPU agent.
// A TCG boot takes ~2-5 min depending on the machine's load; the whole file ~6-8 min.
import fs from "node:fs";
import crypto from "node:crypto";
import os from "node:os";
import path from "node:path";
import { and, eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as s from "@/db/schema";
import { backendForNode } from "@/server/console/backends";
import type { ConsoleStream } from "@/server/console/types";
import { driverFor } from "@/server/workflows/bmc-access";
import { agentFor } from "@/server/workflows/instances";
import { enrollLabHosts, inspectAndProvide } from "@/sim/lab-bootstrap";
import { mountsUnder, pidsMentioning, type RealLab, startRealLab } from "@/sim/real/lab";
import { uniq, useTestDb } from "./db";
import { useEngine } from "./engine";
import { callerAs, instanceRow, nodeRow } from "./fixtures";
import { waitOperation } from "./instance-lab";

const BOOT_MS = 10 * 60_000;
const PASSWORD = `pw-${crypto.randomBytes(6).toString("hex")}`;
const USER_DATA = `#cloud-config\npassword: ${PASSWORD}\nchpasswd: { expire: false }\nssh_pwauth: true\n`;

const db = useTestDb();
const fx = useEngine("real-ipmi");

let dir = "";
let lab: RealLab | undefined;
const savedEnv: Record<string, string | undefined> = {};
let poolId = "";
let imageId = "";
let subnetId = "";
let hostId = "";
let instanceId = "";
let instanceName = "";
let sol: ConsoleStream | undefined;

async function sha256File(file: string): Promise<string> {
  const hash = crypto.createHash("sha256");
  for await (const chunk of fs.createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest("hex");
}

async function waitFor<T>(what: string, fn: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs: number, everyMs = 500): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

async function dpuOf(id: string) {
  const [d] = await db
    .select()
    .from(s.nodes)
    .where(and(eq(s.nodes.parentNodeId, id), eq(s.nodes.kind, "dpu")));
  return d!;
}

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "anvil-real-ipmi-"));
  lab = await startRealLab({ dir, hosts: 0, ipmiHosts: 1, quiet: true });
  for (const [k, v] of Object.entries(lab.storageEnv)) {
    savedEnv[k] = process.env[k];
    process.env[k] = v;
  }
  const [pool] = await db
    .insert(s.pools)
    .values({ name: uniq("gpu"), resourceClass: "bm.lab" })
    .returning();
  poolId = pool!.id;
  const quota = { instances: 100, cores: 10_000, ramGiB: 10_000, volumes: 100, volumeGiB: 10_000, snapshots: 100, addresses: 100 };
  await db
    .insert(s.quotas)
    .values({ tenantId: fx.tenant.id, ...quota })
    .onConflictDoUpdate({ target: s.quotas.tenantId, set: quota });
}, 20 * 60_000);

afterAll(async () => {
  await sol?.close().catch(() => {});
  await lab?.close();
  for (const [k, v] of Object.entries(savedEnv)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  if (dir) {
    expect(pidsMentioning(dir)).toEqual([]);
    expect(mountsUnder(dir)).toEqual([]);
    fs.rmSync(dir, { recursive: true, force: true });
  }
}, 180_000);

describe("an IPMI host of the real lab, driven by Anvil", () => {
  it("is enrolled with its IPMI BMC and its DPU, inspected and made available", async () => {
    const row = lab!.hosts[0]!;
    expect(lab!.hosts).toHaveLength(1);
    expect(row).toMatchObject({ name: "real-ipmi-0001", pool: "gpu", driver: "ipmi", dedicated_power: true });
    expect(row.bmc_address).toMatch(/^127\.0\.0\.1:\d+$/);
    // The Redfish simulator serves only the IPMI host's DPU BMC.
    expect(lab!.redfish.bmcs.map((b) => `${b.kind}:${b.id}`)).toEqual(["dpu:real-ipmi-0001-dpu"]);

    const name = uniq("ipmi");
    const enrolled = await enrollLabHosts(db, lab!.hosts, { name: () => name, poolId: () => poolId, requestId: "real-ipmi" });
    // A refusal names what the chassis hook (ipmi_sim → QMP) failed with, if it did.
    expect(enrolled.failed, `chassis hook errors: ${lab!.ipmiHosts[0]!.hookErrors().join("; ")}`).toEqual([]);
    hostId = enrolled.nodeIds.get(row.name)!;
    await inspectAndProvide(db, [hostId], { createdBy: null });
    const host = await nodeRow(db, hostId);
    expect(host).toMatchObject({ bmcDriver: "ipmi", bmcAddress: row.bmc_address, provisionState: "available", powerState: "off" });
    const dpu = await dpuOf(hostId);
    expect(dpu).toMatchObject({ name: `${name}-dpu`, bmcDriver: "redfish", agentUrl: row.agent_url, dedicatedPower: true });
  }, 120_000);

  it(
    "runs a tenant's instance: the guest boots from its Ceph clone and SOL shows `<hostname> login:`; the user-data password logs in",
    async () => {
      const { buildImage } = await import("@/server/storage/images");
      const { defaultLogicalPoolId } = await import("@/server/storage/backend");
      const img = lab!.guestImage;
      const image = await buildImage(
        { db, principal: null, requestId: "real-ipmi" },
        { name: uniq("debian"), os: "debian", version: "12", visibility: "public", tenantId: null },
        { kind: "upload", file: { path: img.path, format: "raw" }, checksumSha256: await sha256File(img.path) },
        { sizeBytes: img.sizeBytes, logicalPoolId: await defaultLogicalPoolId() },
      );
      imageId = image.id;
      const admin = callerAs(fx, "tenantAdmin");
      const vpc = await admin.vpcs.create({ tenant: fx.tenant.slug, name: uniq("vpc"), cidr: "10.30.0.0/16" } as never);
      const subnet = await admin.subnets.create({
        tenant: fx.tenant.slug,
        vpcId: vpc.id,
        name: uniq("net"),
        cidr: "10.30.1.0/24",
        dnsServers: ["10.30.1.2"],
      } as never);
      subnetId = subnet.id;

      instanceName = uniq("ipmi-vm");
      const t = callerAs(fx, "tenantMember");
      const r = await t.instances.create({ tenant: fx.tenant.slug, name: instanceName, poolId, imageId, subnetId, userData: USER_DATA } as never);
      instanceId = r.id;
      // The console is opened as soon as the host is powered: IPMI's last boot signal is power-on, so the guest is
      // still early in its boot when the create succeeds.
      const op = await waitOperation(db, r.operationId, BOOT_MS);
      expect(op.error).toBeNull();
      expect(op.status).toBe("succeeded");
      const inst = await instanceRow(db, instanceId);
      expect(inst).toMatchObject({ state: "running", nodeId: hostId });
      expect((await nodeRow(db, hostId)).powerState).toBe("on");
      const ipmiHost = lab!.ipmiHosts[0]!;
      expect(ipmiHost.hookLog()).toContain("set power 1");

      // The console path Anvil's WebSocket proxy takes for this node: backendForNode → IPMI SOL over the BMC's LAN.
      const node = await nodeRow(db, hostId);
      sol = await backendForNode(node).connect();
      let text = "";
      sol.on("data", (c) => {
        text += c.toString("latin1");
      });
      const prompt = `${instanceName} login:`;
      let nudged = 0;
      await waitFor(
        prompt,
        () => {
          if (text.includes(prompt)) return true;
          // The getty came up before SOL was opened: Enter makes it print its prompt again.
          if (ipmiHost.consoleText().includes(prompt) && Date.now() - nudged > 10_000) {
            nudged = Date.now();
            sol!.write("\r");
          }
          return false;
        },
        BOOT_MS,
      );
      // cloud-init sets the password in its config stage, after the getty is up: log in once it has finished, at a
      // fresh prompt.
      const finished = /Cloud-init v\. \S+ finished at/;
      await waitFor("cloud-init to finish", () => finished.test(text) || finished.test(ipmiHost.consoleText()), BOOT_MS);
      const fresh = text.length;
      sol.write("\r");
      await waitFor("a fresh login prompt", () => text.slice(fresh).includes(prompt), 180_000);
      const mark = text.length;
      sol.write("debian\r");
      await waitFor("Password:", () => text.slice(mark).includes("Password:"), 180_000);
      sol.write(`${PASSWORD}\r`);
      await waitFor("a shell", () => text.slice(mark).includes(`debian@${instanceName}:~$`), 120_000);
      sol.write("echo H=$(hostname)-ok\r");
      await waitFor("the hostname from the seed", () => text.slice(mark).includes(`H=${instanceName}-ok`), 180_000);
      await sol.close();
      sol = undefined;
    },
    15 * 60_000,
  );

  it(
    "deletes the instance: the host is powered off (IPMI chassis status) and the DPU has no function left",
    async () => {
      const t = callerAs(fx, "tenantMember");
      const r = await t.instances.delete({ tenant: fx.tenant.slug, id: instanceId });
      const op = await waitOperation(db, r.operationId, 5 * 60_000);
      expect(op.error).toBeNull();
      expect(op.status).toBe("succeeded");
      expect((await instanceRow(db, instanceId)).state).toBe("deleted");
      const host = await nodeRow(db, hostId);
      expect(host).toMatchObject({ provisionState: "available", powerState: "off" });
      // Asked of the BMC itself, through Anvil's IPMI driver; QEMU agrees (stopped).
      expect(await driverFor(host).getPowerState()).toBe("off");
      expect(["paused", "prelaunch"]).toContain(await lab!.ipmiHosts[0]!.status());
      const agent = agentFor(await dpuOf(hostId));
      const inv = (await fetch(`${lab!.hosts[0]!.agent_url}/v1/inventory`, { headers: { authorization: `Bearer ${lab!.hosts[0]!.agent_token}` } }).then((x) =>
        x.json(),
      )) as { functions: unknown[] };
      expect(inv.functions).toEqual([]);
      expect([...(await agent.listDisks()), ...(await agent.listCidata()), ...(await agent.listNics())]).toEqual([]);
    },
    6 * 60_000,
  );
});
