// The dev/demo lab: with ANVIL_LAB=<hosts> (the dev command's default is 16 = 2 pools × 8), server.ts starts the lab
// (sim/lab.ts: Redfish BMC simulator, storage service, one DPU agent per DPU) beside itself, points the storage
// driver at the lab's storage service, and enrolls, inspects and provides the lab's hosts so the console is ready
// to use (sim/lab-bootstrap.ts, the bootstrap the tests use too). Everything is reached over the network, exactly as real hardware would be. Ports are derived from PORT so
// a restart finds the same BMC addresses that are already enrolled. The lab listens on loopback, which the
// management-network policy refuses by default: allowLabAddresses() adds 127.0.0.0/8 to ANVIL_MGMT_ALLOW.
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { and, eq, isNull } from "drizzle-orm";
import { getDb } from "@/db/client";
import { images, pools, tenants, users, vpcs } from "@/db/schema";
import { derivedKey, dataDir } from "@/server/lib/secrets";
import { logger } from "@/server/lib/log";
import type { BackgroundLab } from "@/server/runtime";
import { prepareRealLab, startRealDevLab } from "./real/dev-lab";

export interface DevLab {
  summary: string;
  manifestPath: string;
  close(): Promise<void>;
}

/** The lab is on 127.0.0.0/8: allow it on the management network (ANVIL_MGMT_ALLOW), keeping what was allowed. */
export function allowLabAddresses(): void {
  const now = process.env.ANVIL_MGMT_ALLOW?.trim();
  if (now?.split(/[\s,]+/).includes("127.0.0.0/8")) return;
  process.env.ANVIL_MGMT_ALLOW = now ? `${now},127.0.0.0/8` : "127.0.0.0/8";
  logger.info({ ANVIL_MGMT_ALLOW: process.env.ANVIL_MGMT_ALLOW }, "the lab runs on loopback: 127.0.0.0/8 allowed on the management network");
}

/**
 * The lab server.ts hands to the background services, from ANVIL_LAB (off, or a number of hosts; the dev command's
 * default is 16), or undefined when it is off. A malformed value stops the start with the reason.
 */
export function labFromEnv(opts: { dev: boolean }): BackgroundLab | undefined {
  const labSetting = process.env.ANVIL_LAB ?? (opts.dev ? "16" : "off");
  if (labSetting === "off" || labSetting === "0") return undefined;
  if (labSetting === "real") {
    // The real lab (sim/real/dev-lab.ts): Ceph, QEMU hosts and emulated DPUs in their own process.
    // Hosts behind the Redfish BMC (pool general) and behind ipmi_sim (pool gpu).
    const hosts = Number(process.env.ANVIL_LAB_HOSTS ?? 2);
    const ipmiHosts = Number(process.env.ANVIL_LAB_IPMI_HOSTS ?? 1);
    return {
      allowAddresses: () => {
        allowLabAddresses();
        if (!Number.isInteger(hosts) || hosts < 0 || hosts > 8)
          throw new Error(`ANVIL_LAB_HOSTS must be 0–8 for the real lab, got "${process.env.ANVIL_LAB_HOSTS}"`);
        if (!Number.isInteger(ipmiHosts) || ipmiHosts < 0 || ipmiHosts > 4 || hosts + ipmiHosts < 1)
          throw new Error(`ANVIL_LAB_IPMI_HOSTS must be 0–4 (with at least one host in all), got "${process.env.ANVIL_LAB_IPMI_HOSTS}"`);
        prepareRealLab();
      },
      start: () => startRealDevLab({ hosts, ipmiHosts, port: Number(process.env.PORT ?? 3000) }),
    };
  }
  return {
    allowAddresses: allowLabAddresses,
    start: () => {
      const hosts = Number(labSetting);
      if (!Number.isInteger(hosts) || hosts < 1 || hosts > 2000) throw new Error(`ANVIL_LAB must be off or a number of hosts (1–2000), got "${labSetting}"`);
      return startDevLab({
        hosts,
        enroll: Number(process.env.ANVIL_LAB_ENROLL ?? hosts),
        latency: process.env.ANVIL_LAB_LATENCY === "realistic" ? "realistic" : "zero",
        port: Number(process.env.PORT ?? 3000),
        cascade: Number(process.env.ANVIL_LAB_CASCADE ?? 0),
      });
    },
  };
}

export async function startDevLab(opts: { hosts: number; enroll: number; latency: "zero" | "realistic"; port: number; cascade?: number }): Promise<DevLab> {
  allowLabAddresses();
  const { bootstrapLab } = await import("./lab-bootstrap");
  const seed = derivedKey("lab-agent-tokens");
  // The manifest holds BMC passwords and agent tokens: owner-only files.
  const manifestPath = process.env.ANVIL_LAB_MANIFEST ? path.resolve(process.env.ANVIL_LAB_MANIFEST) : path.join(dataDir(), "lab.json");
  const db = getDb();
  const poolRows = await db.select().from(pools);
  const { lab, nodeIds, failed, skipped } = await bootstrapLab(db, {
    lab: {
      hosts: opts.hosts,
      pools: ["general", "gpu"],
      latency: opts.latency,
      agentToken: (dpuId: string) => crypto.createHmac("sha256", seed).update(dpuId).digest("hex"),
      portBase: 20_000 + (opts.port % 1000) * 20,
      // ANVIL_LAB_CASCADE=N: the last N hosts carry their DPU's BMC behind their own (BMC cascade).
      cascade: opts.cascade ?? 0,
      quiet: true,
    },
    started: (lab) => {
      fs.mkdirSync(path.dirname(manifestPath), { recursive: true });
      fs.writeFileSync(manifestPath, JSON.stringify(lab.manifest(), null, 2), { mode: 0o600 });
      fs.writeFileSync(manifestPath.replace(/\.json$/, ".csv"), lab.csv(), { mode: 0o600 });
    },
    enroll: opts.enroll,
    skipEnrolled: true,
    poolId: (name) => poolRows.find((p) => p.name === name)?.id ?? null,
    requestId: "dev-lab",
    createdBy: "dev-lab",
    event: "dev lab",
  });
  for (const f of failed) logger.warn({ host: f.host, error: f.message }, "lab host not enrolled");
  const enrolled = nodeIds.size;
  const total = skipped + enrolled;
  await seedDemoContent().catch((e) => logger.warn({ error: (e as Error).message }, "demo images / networks not seeded"));
  return {
    summary: `${lab.hosts.length} hosts with DPUs (${total} enrolled${enrolled ? `, ${enrolled} just now` : ""}); Redfish admin ${lab.redfish.adminUrl}; storage ${lab.storage.url}; manifest ${manifestPath}`,
    manifestPath,
    close: () => lab.close(),
  };
}

/** Public images the demo offers (in the sim lab a generated pattern of the right size; the real lab boots debian-12). */
const DEMO_IMAGES = [
  { name: "debian-12", os: "debian", version: "12", gib: 2 },
  { name: "ubuntu-24.04", os: "ubuntu", version: "24.04", gib: 3 },
];
/** Each demo tenant gets a VPC and subnet so a first instance is two clicks away. */
const DEMO_NETWORKS = [
  { slug: "acme", admin: "alice@acme.example", cidr: "10.20.0.0/16", subnet: "10.20.1.0/24" },
  { slug: "globex", admin: "carol@globex.example", cidr: "10.30.0.0/16", subnet: "10.30.1.0/24" },
];

/**
 * Demo content a tenant needs to create an instance right away: public images on the lab's storage and a default
 * VPC + subnet per demo tenant, made through the same code paths a person would use. Idempotent across restarts;
 * the lab's storage is in memory, so an image whose golden snapshot vanished with the previous lab is rebuilt.
 */
export async function seedDemoContent(opts: { realImage?: { path: string; sizeBytes: number } } = {}): Promise<void> {
  const db = getDb();
  const { buildImage } = await import("@/server/storage/images");
  const { withSampleImage } = await import("@/server/storage/sample-image");
  const { defaultLogicalPoolId, getStorage } = await import("@/server/storage/backend");
  const storage = getStorage();
  // The real lab's storage is Ceph and its hosts really boot: its one image is the lab's bootable Debian guest.
  const wanted = opts.realImage ? DEMO_IMAGES.filter((i) => i.name === "debian-12") : DEMO_IMAGES;
  for (const img of wanted) {
    const [row] = await db
      .select()
      .from(images)
      .where(and(eq(images.name, img.name), isNull(images.tenantId)));
    if (row?.storageSnapshotId) {
      const alive = await storage.getSnapshot(row.storageSnapshotId).then(
        () => true,
        () => false,
      );
      if (alive) continue;
    }
    if (row) await db.delete(images).where(eq(images.id, row.id));
    const meta = { name: img.name, os: img.os, version: img.version, visibility: "public" as const, tenantId: null };
    const ctx = { db, principal: null, requestId: "dev-lab" };
    if (opts.realImage) {
      const file = { path: opts.realImage.path, format: "raw" as const };
      const build = { kind: "upload" as const, file, checksumSha256: await sha256File(file.path) };
      await buildImage(ctx, meta, build, { sizeBytes: opts.realImage.sizeBytes, logicalPoolId: await defaultLogicalPoolId() });
      continue;
    }
    await withSampleImage(64 * 1024 * 1024, async (build) =>
      buildImage(ctx, meta, build, { sizeBytes: img.gib * 1024 ** 3, logicalPoolId: await defaultLogicalPoolId() }),
    );
  }
  const { createCaller } = await import("@/server/api/root");
  for (const n of DEMO_NETWORKS) {
    const [t] = await db.select().from(tenants).where(eq(tenants.slug, n.slug));
    const [u] = await db.select().from(users).where(eq(users.email, n.admin));
    if (!t || !u) continue;
    const [has] = await db.select({ id: vpcs.id }).from(vpcs).where(eq(vpcs.tenantId, t.id)).limit(1);
    if (has) continue;
    const caller = createCaller({
      db,
      principal: { userId: u.id, email: u.email, name: u.name, platformRole: null, sessionId: null, tokenScope: null },
      requestId: "dev-lab",
      headers: new Headers(),
    });
    const vpc = await caller.vpcs.create({ tenant: n.slug, name: "default", cidr: n.cidr, description: "Created by the demo lab" });
    // No DNS servers: the lab has no resolver, and the VPC router on the DPUs answers the gateway's ARP and ping but
    // not DNS, so naming the gateway would make every lookup in a guest wait out its timeout.
    await caller.subnets.create({ tenant: n.slug, vpcId: vpc.id, name: "default", cidr: n.subnet });
  }
}

async function sha256File(file: string): Promise<string> {
  const hash = crypto.createHash("sha256");
  for await (const chunk of fs.createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest("hex");
}
