// Objects the authorization coverage test consumes (a fresh one per call, so a delete can succeed).
import { eq } from "drizzle-orm";
import * as s from "@/db/schema";
import type { Fixtures } from "@/test/fixtures";

export async function poolsFixture(fx: Fixtures) {
  const [row] = await fx.db
    .insert(s.pools)
    .values({ name: `authz-${crypto.randomUUID().slice(0, 8)}`, resourceClass: "bm.test" })
    .returning();
  return row!;
}

/** A node row for calls that act on one (BMC address on a closed port: any real BMC call fails fast). */
export async function nodeFixture(fx: Fixtures, over: Partial<typeof s.nodes.$inferInsert> = {}): Promise<typeof s.nodes.$inferSelect> {
  const { seal } = await import("@/server/lib/secrets");
  const id = crypto.randomUUID();
  const [row] = await fx.db
    .insert(s.nodes)
    .values({
      id,
      name: `authz-${id.slice(0, 8)}`,
      bmcDriver: "redfish",
      bmcAddress: `http://127.0.0.1:1/${id}`,
      bmcCredentials: seal(JSON.stringify({ username: "u", password: "p" })),
      bmcCredentialsFingerprint: "f",
      provisionState: "manageable",
      powerState: "off",
      ...over,
    })
    .returning();
  return row!;
}

export async function operationFixture(fx: Fixtures) {
  const [row] = await fx.db.insert(s.operations).values({ kind: "node.inspect", targetType: "node", steps: [] }).returning();
  return row!;
}

// --- Tenancy (tenants, users, members, quotas, API tokens, SSH keys) ---

/** A fresh tenant (optionally suspended) so suspend/resume/delete can run once per role. */
export async function tenantFixture(fx: Fixtures, state: "active" | "suspended" = "active") {
  const slug = `authz-${crypto.randomUUID().slice(0, 8)}`;
  const [row] = await fx.db.insert(s.tenants).values({ slug, name: slug, state }).returning();
  return row!;
}

/** A fresh user with no roles. */
export async function userFixture(fx: Fixtures) {
  const id = crypto.randomUUID();
  const [row] = await fx.db
    .insert(s.users)
    .values({ id, email: `authz-${id.slice(0, 8)}@test.local`, name: "Authz user" })
    .returning();
  return row!;
}

/** A fresh user who is a member of `tenantId` (default: fx.tenant). */
export async function memberFixture(fx: Fixtures, tenantId = fx.tenant.id, role: "tenant-admin" | "tenant-member" = "tenant-member") {
  const u = await userFixture(fx);
  await fx.db.insert(s.memberships).values({ tenantId, userId: u.id, role });
  return u;
}

/** A pending invitation of `email` (default: a fresh address) into `tenantId` (default: a fresh tenant). */
export async function invitationFixture(fx: Fixtures, email = `authz-${crypto.randomUUID().slice(0, 8)}@test.local`, tenantId?: string) {
  const tenant = tenantId ?? (await tenantFixture(fx)).id;
  const [row] = await fx.db
    .insert(s.tenantInvitations)
    .values({ tenantId: tenant, email: email.toLowerCase(), role: "tenant-member", expiresAt: new Date(Date.now() + 86_400_000) })
    .returning();
  return row!;
}

/** An OpenSSH ed25519 public key line, freshly generated. */
export async function sshPublicKeyFixture(): Promise<string> {
  const { generateKeyPairSync } = await import("node:crypto");
  const jwk = generateKeyPairSync("ed25519").publicKey.export({ format: "jwk" });
  const str = (b: Buffer) => Buffer.concat([Buffer.from([0, 0, 0, b.length]), b]);
  const blob = Buffer.concat([str(Buffer.from("ssh-ed25519")), str(Buffer.from(jwk.x!, "base64url"))]);
  return `ssh-ed25519 ${blob.toString("base64")} authz@test`;
}

/** An API token row owned by `userId` (only its id matters to revoke). */
export async function apiTokenFixture(fx: Fixtures, userId: string) {
  const { newToken } = await import("@/server/auth/tokens");
  const t = newToken();
  await fx.db.insert(s.apiTokens).values({
    id: t.id,
    userId,
    name: `authz-${t.id}`,
    secretHash: t.secretHash,
    tenantId: fx.tenant.id,
    tenantRole: "tenant-member",
    expiresAt: new Date(Date.now() + 86_400_000),
  });
  return t;
}

/** An SSH key row owned by `userId`. */
export async function sshKeyFixture(fx: Fixtures, userId: string) {
  const id = crypto.randomUUID();
  const [row] = await fx.db
    .insert(s.sshKeys)
    .values({ id, userId, name: `authz-${id.slice(0, 8)}`, publicKey: "ssh-ed25519 AAAA", keyType: "ssh-ed25519", bits: 256, fingerprint: `SHA256:${id}` })
    .returning();
  return row!;
}

/**
 * Networking: a VPC of fx.tenant (with its default group and one subnet) and the tenant's network quotas raised so
 * the coverage run never trips them. Each call makes fresh objects, so a delete can succeed.
 */
export async function networkFixture(fx: Fixtures) {
  const tenantId = fx.tenant.id;
  const big = { vpcs: 100_000, subnets: 100_000, securityGroups: 100_000, addresses: 100_000 };
  await fx.db
    .insert(s.quotas)
    .values({ tenantId, ...big })
    .onConflictDoUpdate({ target: s.quotas.tenantId, set: big });
  const vni = 10_000 + Math.floor(Math.random() * 16_000_000);
  const [vpc] = await fx.db
    .insert(s.vpcs)
    .values({ tenantId, name: `authz-${crypto.randomUUID().slice(0, 8)}`, cidr: "10.0.0.0/16", vni })
    .returning();
  const [group] = await fx.db.insert(s.securityGroups).values({ tenantId, vpcId: vpc!.id, name: "default", isDefault: true }).returning();
  const [rule] = await fx.db
    .insert(s.securityGroupRules)
    .values({ tenantId, groupId: group!.id, direction: "ingress", ethertype: "ipv4", protocol: "tcp", portMin: 22, portMax: 22, remoteCidr: "0.0.0.0/0" })
    .returning();
  const [subnet] = await fx.db.insert(s.subnets).values({ tenantId, vpcId: vpc!.id, name: "authz", cidr: "10.0.1.0/24", gateway: "10.0.1.1" }).returning();
  return { vpc: vpc!, group: group!, rule: rule!, subnet: subnet! };
}

/** A port (with an address and the default group) on a fresh network fixture. */
export async function portFixture(fx: Fixtures) {
  const net = await networkFixture(fx);
  const id = crypto.randomUUID();
  const mac = `02:${id.slice(0, 2)}:${id.slice(2, 4)}:${id.slice(4, 6)}:${id.slice(6, 8)}:${id.slice(9, 11)}`;
  const [port] = await fx.db
    .insert(s.ports)
    .values({ id, tenantId: fx.tenant.id, subnetId: net.subnet.id, name: `authz-${id.slice(0, 8)}`, mac })
    .returning();
  await fx.db.insert(s.ipAllocations).values({ tenantId: fx.tenant.id, subnetId: net.subnet.id, address: "10.0.1.10", portId: port!.id });
  await fx.db.insert(s.portSecurityGroups).values({ portId: port!.id, groupId: net.group.id });
  return { ...net, port: port! };
}

/** A provider network on a free VLAN ≥ 3000 and a matching /24 of 198.18.0.0/15 (benchmarking range, never routed). */
export async function providerNetworkFixture(fx: Fixtures) {
  const slot = await freeProviderSlot(fx);
  const [row] = await fx.db
    .insert(s.providerNetworks)
    .values({ name: `authz-${crypto.randomUUID().slice(0, 8)}`, ...slot })
    .returning();
  return row!;
}

/** A provider network with a gateway and gateway MAC (usable for floating IPs and SNAT). */
export async function usableProviderNetworkFixture(fx: Fixtures) {
  const slot = await freeProviderSlot(fx);
  const [row] = await fx.db
    .insert(s.providerNetworks)
    .values({ name: `authz-${crypto.randomUUID().slice(0, 8)}`, ...slot, gateway: slot.cidr.replace(/0\/24$/, "1"), gatewayMac: "52:54:00:aa:bb:01" })
    .returning();
  return row!;
}

/** A floating IP of fx.tenant (unattached) on a fresh usable provider network. */
export async function floatingIpFixture(fx: Fixtures, portId: string | null = null) {
  const pn = await usableProviderNetworkFixture(fx);
  const [row] = await fx.db
    .insert(s.providerAddresses)
    .values({ tenantId: fx.tenant.id, providerNetworkId: pn.id, kind: "floating", address: pn.cidr.replace(/0\/24$/, "10"), portId })
    .returning();
  return { fip: row!, network: pn };
}

/** A port of fx.tenant that is an instance's NIC (what floating IPs attach to), on a fresh network fixture. */
export async function instancePortFixture(fx: Fixtures) {
  const p = await portFixture(fx);
  const [pool] = await fx.db
    .insert(s.pools)
    .values({ name: `authz-${crypto.randomUUID().slice(0, 8)}`, resourceClass: "bm.test" })
    .returning();
  const [inst] = await fx.db
    .insert(s.instances)
    .values({ tenantId: fx.tenant.id, poolId: pool!.id, name: `authz-${crypto.randomUUID().slice(0, 8)}`, systemVolumeSizeGiB: 20, portId: p.port.id })
    .returning();
  await fx.db.update(s.ports).set({ instanceId: inst!.id, nicIndex: 0 }).where(eq(s.ports.id, p.port.id));
  return { ...p, instance: inst! };
}

export async function freeProviderSlot(fx: Fixtures): Promise<{ vlanId: number; cidr: string }> {
  const { sql } = await import("drizzle-orm");
  const r = await fx.db.execute<{ v: number }>(
    sql`select min(v)::int as v from generate_series(3000, 3511) v where not exists (select 1 from provider_networks p where p.vlan_id = v)`,
  );
  const v = r.rows[0]!.v;
  return { vlanId: v, cidr: `198.${18 + ((v - 3000) >> 8)}.${(v - 3000) & 255}.0/24` };
}

// --- Storage (volumes, snapshots, images, disk/logical pools) — objects live on a real lab storage service ---

/** Starts (once) the lab storage service and lifts fx.tenant's storage quotas so every role's call can create. */
export async function storageFixture(fx: Fixtures) {
  const { sharedTestStorage } = await import("./storage");
  await sharedTestStorage();
  await fx.db
    .insert(s.quotas)
    .values({ tenantId: fx.tenant.id, volumes: 100_000, volumeGiB: 10_000_000, snapshots: 100_000 })
    .onConflictDoUpdate({ target: s.quotas.tenantId, set: { volumes: 100_000, volumeGiB: 10_000_000, snapshots: 100_000 } });
  const { getStorage, defaultLogicalPoolId } = await import("@/server/storage/backend");
  return { storage: getStorage(), logicalPoolId: await defaultLogicalPoolId() };
}

/** An available 1 GiB volume of fx.tenant, on the service and in Postgres. */
export async function volumeFixture(fx: Fixtures) {
  const { storage, logicalPoolId } = await storageFixture(fx);
  const id = crypto.randomUUID();
  const v = await storage.createVolume({ name: `vol-${id}`, logicalPoolId, sizeBytes: 1024 ** 3 });
  const [row] = await fx.db
    .insert(s.volumes)
    .values({ id, tenantId: fx.tenant.id, name: `authz-${id.slice(0, 8)}`, sizeGiB: 1, logicalPoolId, state: "available", storageVolumeId: v.id })
    .returning();
  return row!;
}

/** An available snapshot of a fresh volume of fx.tenant. */
export async function snapshotFixture(fx: Fixtures) {
  const { storage } = await storageFixture(fx);
  const v = await volumeFixture(fx);
  const id = crypto.randomUUID();
  const snap = await storage.createSnapshot({ volumeId: v.storageVolumeId!, name: `snap-${id}` });
  const [row] = await fx.db
    .insert(s.snapshots)
    .values({ id, tenantId: fx.tenant.id, volumeId: v.id, name: `authz-${id.slice(0, 8)}`, sizeGiB: 1, state: "available", storageSnapshotId: snap.id })
    .returning();
  return row!;
}

/** An available image (public, or private to fx.tenant). */
export async function imageFixture(fx: Fixtures, visibility: "public" | "tenant" = "public") {
  const { logicalPoolId } = await storageFixture(fx);
  const { buildImage } = await import("@/server/storage/images");
  const { withSampleImage } = await import("@/server/storage/sample-image");
  return withSampleImage(4096, async (build) =>
    buildImage(
      { db: fx.db, principal: null, requestId: "authz-fixture" },
      { name: `authz-${crypto.randomUUID().slice(0, 8)}`, os: "authz-os", version: "1", visibility, tenantId: visibility === "tenant" ? fx.tenant.id : null },
      build,
      { sizeBytes: 1024 ** 3, logicalPoolId },
    ),
  );
}

/** An unassigned disk (consumed by a disk-pool create). */
export async function freeDiskFixture(fx: Fixtures) {
  const { storage } = await storageFixture(fx);
  const d = (await storage.listDisks({ unassigned: true, limit: 1 })).items[0];
  if (!d) throw new Error("authz storage fixture: no unassigned disk left");
  return d;
}

/** A disk pool of one disk with no logical pools (deletable). */
export async function diskPoolFixture(fx: Fixtures) {
  const { storage } = await storageFixture(fx);
  return storage.createDiskPool({ name: `authz-${crypto.randomUUID().slice(0, 8)}`, diskIds: [(await freeDiskFixture(fx)).id] });
}

/** A logical pool with no volumes on the default disk pool (deletable). */
export async function logicalPoolFixture(fx: Fixtures) {
  const { storage, logicalPoolId } = await storageFixture(fx);
  const lp = await storage.getLogicalPool(logicalPoolId);
  return storage.createLogicalPool({ name: `authz-${crypto.randomUUID().slice(0, 8)}`, diskPoolId: lp.diskPoolId, redundancy: { type: "replica", copies: 1 } });
}

/** An instance row of fx.tenant (as a create would leave it, before any workflow step). */
export async function instanceFixture(fx: Fixtures) {
  const pool = await poolsFixture(fx);
  const [row] = await fx.db
    .insert(s.instances)
    .values({ tenantId: fx.tenant.id, poolId: pool.id, name: `authz-${crypto.randomUUID().slice(0, 8)}`, systemVolumeSizeGiB: 10 })
    .returning();
  return row!;
}

/** A disabled webhook (deliveries are never sent) of a tenant, or of the platform (tenantId null). */
export async function webhookFixture(fx: Fixtures, tenantId: string | null) {
  const { seal } = await import("@/server/lib/secrets");
  const [row] = await fx.db
    .insert(s.webhooks)
    .values({
      tenantId,
      name: `authz-${crypto.randomUUID().slice(0, 8)}`,
      url: "https://127.0.0.1:9/hook",
      events: ["instance.state_changed"],
      secret: seal("whsec_authz"),
      enabled: false,
    })
    .returning();
  return row!;
}

/** A fresh session of `userId` (expiring in an hour), as better-auth would have made it at sign-in. */
export async function sessionFixture(fx: Fixtures, userId: string) {
  const [row] = await fx.db
    .insert(s.sessions)
    .values({ id: crypto.randomUUID(), userId, token: crypto.randomUUID(), expiresAt: new Date(Date.now() + 3_600_000), userAgent: "authz-test" })
    .returning();
  return row!;
}

/** A URL on a 127.0.0.1 server serving a 4 KiB raw disk, and the storage an import needs. */
export async function imageUrlFixture(fx: Fixtures) {
  await storageFixture(fx);
  const { sharedImageServer } = await import("./image-server");
  return { url: `${(await sharedImageServer()).url}/disk.raw`, format: "raw" as const };
}

/** A rollout row in `status` (no run going, no hosts): for pause/resume/abort, which need no hardware. */
export async function rolloutFixture(fx: Fixtures, status: "running" | "paused") {
  const [row] = await fx.db
    .insert(s.rollouts)
    .values({ imageUri: "http://127.0.0.1:1/dpu.bfb", maxUnavailable: 1, instancePolicy: "skip", status, runActive: false })
    .returning();
  return row!;
}
