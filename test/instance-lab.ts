// A provisioning-ready lab for tests and benchmarks: the real lab (Redfish BMCs, storage service, one DPU agent per
// DPU) with its hosts enrolled into a fresh pool, inspected through the real workflow and made available (the
// bootstrap the dev command uses too, sim/lab-bootstrap.ts), a public image on the lab's storage, and a VPC + subnet
// for the fixture tenant. The workflow engine must be running.
import { eq } from "drizzle-orm";
import type { Db } from "@/db/client";
import * as s from "@/db/schema";
import type { Lab, LabOptions } from "@/sim/lab";
import { bootstrapLab } from "@/sim/lab-bootstrap";
import { releaseStaleAddresses, uniq } from "./db";
import { callerAs, type Fixtures } from "./fixtures";

export interface InstanceLab {
  lab: Lab;
  poolId: string;
  poolName: string;
  imageId: string;
  subnetId: string;
  vpcId: string;
  /** Host node ids by lab host name (node-0001 …). */
  hosts: Map<string, string>;
  close(): Promise<void>;
}

export async function startInstanceLab(fx: Fixtures, opts: { hosts: number; latency?: LabOptions["latency"]; subnetCidr?: string }): Promise<InstanceLab> {
  const db: Db = fx.db;
  const poolName = uniq("pool");
  const [pool] = await db.insert(s.pools).values({ name: poolName, resourceClass: "bm.lab" }).returning();
  const { lab, nodeIds, failed } = await bootstrapLab(db, {
    lab: { hosts: opts.hosts, pools: [poolName], latency: opts.latency ?? "zero", quiet: true },
    name: (h) => `${poolName}-${h.name}`,
    poolId: () => pool!.id,
    requestId: "instance-lab",
    createdBy: null,
    started: (lab) => releaseStaleAddresses(db, lab.hosts.flatMap((h) => [h.bmc_address, h.dpu_bmc_address ?? ""]).filter(Boolean)),
  });
  if (failed.length) {
    await lab.close();
    throw new Error(`lab host ${failed[0]!.host} not enrolled: ${failed[0]!.message}`);
  }

  // Generous quota so tests and benchmarks measure provisioning, not the defaults.
  const quota = { instances: 10_000, cores: 10_000_000, ramGiB: 10_000_000, volumes: 100_000, volumeGiB: 10_000_000, snapshots: 100_000, addresses: 100_000 };
  await db
    .insert(s.quotas)
    .values({ tenantId: fx.tenant.id, ...quota })
    .onConflictDoUpdate({ target: s.quotas.tenantId, set: quota });

  const { buildImage } = await import("@/server/storage/images");
  const { withSampleImage } = await import("@/server/storage/sample-image");
  const { defaultLogicalPoolId } = await import("@/server/storage/backend");
  const image = await withSampleImage(4096, async (build) =>
    buildImage(
      { db, principal: null, requestId: "instance-lab" },
      { name: uniq("debian"), os: "debian", version: "12", visibility: "public", tenantId: null },
      build,
      { sizeBytes: 1024 ** 3, logicalPoolId: await defaultLogicalPoolId() },
    ),
  );
  const t = callerAs(fx, "tenantAdmin");
  const vpc = await t.vpcs.create({ tenant: fx.tenant.slug, name: uniq("vpc"), cidr: "10.1.0.0/16" } as never);
  const subnet = await t.subnets.create({
    tenant: fx.tenant.slug,
    vpcId: vpc.id,
    name: uniq("net"),
    cidr: opts.subnetCidr ?? "10.1.0.0/20",
    dnsServers: ["10.1.0.2"],
  } as never);
  return {
    lab,
    poolId: pool!.id,
    poolName,
    imageId: image.id,
    subnetId: subnet.id,
    vpcId: vpc.id,
    hosts: nodeIds,
    close: () => lab.close(),
  };
}

/** Waits for an operation to end (succeeded / failed / cancelled) and returns it. */
export async function waitOperation(db: Db, id: string, timeoutMs = 30_000) {
  const t0 = Date.now();
  for (;;) {
    const [op] = await db.select().from(s.operations).where(eq(s.operations.id, id));
    if (op && (op.status === "succeeded" || op.status === "failed" || op.status === "cancelled")) return op;
    if (Date.now() - t0 > timeoutMs) throw new Error(`operation ${id} still ${op?.status} after ${timeoutMs} ms: ${JSON.stringify(op?.steps)}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Storage-service volumes of an instance's system disk(s) (named sys-<instance id>-…), for leak checks. */
export async function systemVolumesOf(instanceId: string) {
  const { getStorage } = await import("@/server/storage/backend");
  const storage = getStorage();
  const out = [];
  for await (const v of storage.listAll(storage.listVolumes)) if (v.name.startsWith(`sys-${instanceId}`)) out.push(v);
  return out;
}

/** Sets the fault injection of every DPU agent of the lab (PUT /admin/faults), e.g. { failAlways: ["attachDisk"] }. */
export async function agentFaults(L: InstanceLab, body: unknown): Promise<void> {
  for (const a of L.lab.agents.values()) {
    const r = await fetch(`${a.url}/admin/faults`, {
      method: "PUT",
      headers: { authorization: `Bearer ${a.token}`, "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    if (!r.ok) throw new Error(`agent faults: ${r.status} ${await r.text()}`);
  }
}
