// Objects the authorization coverage test consumes (a fresh one per call, so a delete can succeed).
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
export async function nodeFixture(
  fx: Fixtures,
  over: Partial<typeof s.nodes.$inferInsert> = {},
): Promise<typeof s.nodes.$inferSelect> {
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
  const [row] = await fx.db.insert(s.users).values({ id, email: `authz-${id.slice(0, 8)}@test.local`, name: "Authz user" }).returning();
  return row!;
}

/** A fresh user who is a member of `tenantId` (default: fx.tenant). */
export async function memberFixture(fx: Fixtures, tenantId = fx.tenant.id, role: "tenant-admin" | "tenant-member" = "tenant-member") {
  const u = await userFixture(fx);
  await fx.db.insert(s.memberships).values({ tenantId, userId: u.id, role });
  return u;
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
  await fx.db.insert(s.apiTokens).values({ id: t.id, userId, name: `authz-${t.id}`, secretHash: t.secretHash, tenantId: fx.tenant.id, tenantRole: "tenant-member", expiresAt: new Date(Date.now() + 86_400_000) });
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
  await fx.db.insert(s.quotas).values({ tenantId, ...big }).onConflictDoUpdate({ target: s.quotas.tenantId, set: big });
  const vni = 10_000 + Math.floor(Math.random() * 16_000_000);
  const [vpc] = await fx.db.insert(s.vpcs).values({ tenantId, name: `authz-${crypto.randomUUID().slice(0, 8)}`, cidr: "10.0.0.0/16", vni }).returning();
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
  const [port] = await fx.db.insert(s.ports).values({ id, tenantId: fx.tenant.id, subnetId: net.subnet.id, name: `authz-${id.slice(0, 8)}`, mac }).returning();
  await fx.db.insert(s.ipAllocations).values({ tenantId: fx.tenant.id, subnetId: net.subnet.id, address: "10.0.1.10", portId: port!.id });
  await fx.db.insert(s.portSecurityGroups).values({ portId: port!.id, groupId: net.group.id });
  return { ...net, port: port! };
}

/** A provider network on a free VLAN ≥ 3000 and a matching /24 of 198.18.0.0/15 (benchmarking range, never routed). */
export async function providerNetworkFixture(fx: Fixtures) {
  const slot = await freeProviderSlot(fx);
  const [row] = await fx.db.insert(s.providerNetworks).values({ name: `authz-${crypto.randomUUID().slice(0, 8)}`, ...slot }).returning();
  return row!;
}

export async function freeProviderSlot(fx: Fixtures): Promise<{ vlanId: number; cidr: string }> {
  const { sql } = await import("drizzle-orm");
  const r = await fx.db.execute<{ v: number }>(
    sql`select min(v)::int as v from generate_series(3000, 3511) v where not exists (select 1 from provider_networks p where p.vlan_id = v)`,
  );
  const v = r.rows[0]!.v;
  return { vlanId: v, cidr: `198.${18 + ((v - 3000) >> 8)}.${(v - 3000) & 255}.0/24` };
}
