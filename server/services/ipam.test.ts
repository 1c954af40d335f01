// IPAM against the real Postgres: fixed-address rules, 200 concurrent allocations on a /24 never collide, then the
// subnet runs dry with a clear error; released addresses are handed out again. Dual stack: concurrent IPv6
// allocations on a /64 never collide and never touch the IPv4 side, a port holds one address per family (idempotent,
// refused twice by the database), a fixed IPv6 address is refused like an IPv4 one, and a release frees both.
import { eq } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";
import * as s from "@/db/schema";
import type { Db } from "@/db/client";
import { uniq, useTestDb } from "@/test/db";
import { type DomainError, isDomainError } from "@/domain/errors";
import { toTrpcError } from "@/server/api/errors";
import { sql } from "drizzle-orm";
import { allocateAddress, ensurePortIpv6, ipv6View, releaseAllocation, releasePortAddress, subnetCapacity, type SubnetForIpam, subnetUsage } from "./ipam";
import { insertTenant } from "@/test/fixtures";

let db: Db;
let tenantId: string;

async function makeSubnet(
  cidr: string,
  gateway: string,
  reservedRanges: { start: string; end: string }[] = [],
  v6: { ipv6Cidr: string; ipv6Gateway: string } | null = null,
): Promise<SubnetForIpam> {
  const vni = 10000 + Math.floor(Math.random() * 16_000_000);
  const [vpc] = await db
    .insert(s.vpcs)
    .values({ tenantId, name: uniq("vpc"), cidr: "10.0.0.0/16", ipv6Cidr: v6 ? "fd00:1::/48" : null, vni })
    .returning();
  const [sub] = await db
    .insert(s.subnets)
    .values({ tenantId, vpcId: vpc!.id, name: uniq("sub"), cidr, gateway, reservedRanges, ...v6 })
    .returning();
  return { id: sub!.id, name: sub!.name, cidr: sub!.cidr, gateway: sub!.gateway, reservedRanges: sub!.reservedRanges, ...v6 };
}

/** A bare port of the subnet (no address yet). */
async function makePort(sub: SubnetForIpam): Promise<string> {
  const mac = `02:00:${Array.from({ length: 4 }, () =>
    Math.floor(Math.random() * 256)
      .toString(16)
      .padStart(2, "0"),
  ).join(":")}`;
  const [p] = await db
    .insert(s.ports)
    .values({ tenantId, subnetId: sub.id, name: uniq("port"), mac })
    .returning();
  return p!.id;
}

const familyRows = (subnetId: string, family: 4 | 6) =>
  db
    .select({ a: sql<string>`host(${s.ipAllocations.address})`, portId: s.ipAllocations.portId })
    .from(s.ipAllocations)
    .where(sql`${s.ipAllocations.subnetId} = ${subnetId} and family(${s.ipAllocations.address}) = ${family}`);

/** The service's refusal, with the tRPC code the API edge answers it with. */
async function failure(p: Promise<unknown>): Promise<DomainError & { code: string | undefined }> {
  try {
    await p;
  } catch (e) {
    if (isDomainError(e)) return Object.assign(e, { code: toTrpcError(e)?.code });
    throw e;
  }
  throw new Error("expected a failure");
}

beforeAll(async () => {
  db = useTestDb();
  tenantId = (await insertTenant(db, "ipam", "IPAM test")).id;
});

describe("IPAM", () => {
  it("200 concurrent allocations on a /24: no duplicates; then exhaustion is a clear error", async () => {
    const sub = await makeSubnet("10.0.1.0/24", "10.0.1.1");
    expect(subnetCapacity(sub)).toBe(253);
    const got = await Promise.all(Array.from({ length: 200 }, () => db.transaction((tx) => allocateAddress(tx, sub, { tenantId }))));
    const addrs = got.map((g) => g.address);
    expect(new Set(addrs).size).toBe(200);
    expect(addrs.every((a) => /^10\.0\.1\.(\d+)$/.test(a) && a !== "10.0.1.1" && a !== "10.0.1.0" && a !== "10.0.1.255")).toBe(true);
    // the rest, also concurrently, fills the subnet exactly
    const rest = await Promise.all(Array.from({ length: 53 }, () => allocateAddress(db, sub, { tenantId })));
    expect(new Set([...addrs, ...rest.map((r) => r.address)]).size).toBe(253);
    const err = await failure(allocateAddress(db, sub, { tenantId }));
    expect(err.code).toBe("PRECONDITION_FAILED");
    expect(err.message).toContain(`Subnet ${sub.name} has no free addresses (254 in use)`);
    expect(await subnetUsage(db, sub)).toEqual({ capacity: 253, used: 253, free: 0 });
    // releasing one makes exactly that one available again
    expect(await releaseAllocation(db, sub.id, got[7]!.id)).toBe(true);
    expect((await allocateAddress(db, sub, { tenantId })).address).toBe(got[7]!.address);
  });

  it("hands out the lowest free address, skipping the gateway and reserved ranges", async () => {
    const sub = await makeSubnet("10.0.2.0/29", "10.0.2.1", [{ start: "10.0.2.2", end: "10.0.2.3" }]);
    expect(subnetCapacity(sub)).toBe(3);
    expect((await allocateAddress(db, sub, { tenantId })).address).toBe("10.0.2.4");
    expect((await allocateAddress(db, sub, { tenantId })).address).toBe("10.0.2.5");
  });

  it.each([
    ["10.0.3.1", "BAD_REQUEST", "is the gateway"],
    ["10.0.3.0", "BAD_REQUEST", "is the network address"],
    ["10.0.3.255", "BAD_REQUEST", "is the broadcast address"],
    ["10.0.4.9", "BAD_REQUEST", "is not in subnet"],
    ["10.0.3.12", "BAD_REQUEST", "is in a reserved range"],
    ["bogus", "BAD_REQUEST", "is not an IP address"],
  ])("a fixed address %s is refused (%s: %s)", async (address, code, text) => {
    const sub = await makeSubnet("10.0.3.0/24", "10.0.3.1", [{ start: "10.0.3.10", end: "10.0.3.20" }]);
    const err = await failure(allocateAddress(db, sub, { tenantId, address }));
    expect(err.code).toBe(code);
    expect(err.field).toBe("address");
    expect(err.message).toContain(text);
    expect(await subnetUsage(db, sub)).toMatchObject({ used: 0 });
  });

  it("a fixed address is given once; the second request is a field error", async () => {
    const sub = await makeSubnet("10.0.5.0/24", "10.0.5.1");
    expect((await allocateAddress(db, sub, { tenantId, address: "10.0.5.50" })).address).toBe("10.0.5.50");
    const err = await failure(allocateAddress(db, sub, { tenantId, address: "10.0.5.50" }));
    expect(err.code).toBe("CONFLICT");
    expect(err.field).toBe("address");
    expect(err.message).toContain("already in use");
    const rows = await db.select().from(s.ipAllocations).where(eq(s.ipAllocations.subnetId, sub.id));
    expect(rows).toHaveLength(1);
  });
});

describe("IPAM, dual stack", () => {
  const dual = () => makeSubnet("10.0.6.0/29", "10.0.6.1", [], { ipv6Cidr: "fd00:1:0:6::/64", ipv6Gateway: "fd00:1:0:6::1" });

  it("200 concurrent IPv6 allocations on a /64: no duplicates, none is the gateway or the anycast address, IPv4 untouched", async () => {
    const sub = await dual();
    const v6 = ipv6View(sub)!;
    const got = await Promise.all(Array.from({ length: 200 }, () => db.transaction((tx) => allocateAddress(tx, v6, { tenantId }))));
    const addrs = got.map((g) => g.address);
    expect(new Set(addrs).size).toBe(200);
    expect(addrs.every((a) => a.startsWith("fd00:1:0:6::") && a !== "fd00:1:0:6::1" && a !== "fd00:1:0:6::")).toBe(true);
    // Lowest first: exactly ::2 … ::201.
    expect(new Set(addrs)).toEqual(new Set(Array.from({ length: 200 }, (_, i) => `fd00:1:0:6::${(i + 2).toString(16)}`)));
    // The IPv4 side (a /29: 5 usable besides the gateway) still has every address, and counts none as used.
    expect(await subnetUsage(db, sub)).toEqual({ capacity: 5, used: 0, free: 5 });
    expect((await allocateAddress(db, sub, { tenantId })).address).toBe("10.0.6.2");
  });

  it("a port gets one IPv6 address (idempotent), the database refuses a second, a release frees both families", async () => {
    const sub = await dual();
    const portId = await makePort(sub);
    const v4 = await allocateAddress(db, sub, { tenantId, portId });
    const a = await ensurePortIpv6(db, sub, { tenantId, portId });
    expect(a).toBe("fd00:1:0:6::2");
    expect(await ensurePortIpv6(db, sub, { tenantId, portId })).toBe(a);
    // UNIQUE (port, family): a second IPv6 address for the port cannot be inserted behind IPAM's back.
    await expect(db.insert(s.ipAllocations).values({ tenantId, subnetId: sub.id, address: "fd00:1:0:6::99", portId })).rejects.toThrow();
    expect(await familyRows(sub.id, 6)).toEqual([{ a, portId }]);
    expect(await familyRows(sub.id, 4)).toEqual([{ a: v4.address, portId }]);
    await releasePortAddress(db, portId);
    expect(await familyRows(sub.id, 4)).toEqual([]);
    expect(await familyRows(sub.id, 6)).toEqual([]);
    // IPv4-only subnets give no IPv6 address.
    const plain = await makeSubnet("10.0.7.0/29", "10.0.7.1");
    expect(await ensurePortIpv6(db, plain, { tenantId, portId: await makePort(plain) })).toBeNull();
  });

  it("concurrent ports on one dual-stack subnet: each its own IPv4 and IPv6 address", async () => {
    const sub = await makeSubnet("10.0.8.0/24", "10.0.8.1", [], { ipv6Cidr: "fd00:1:0:8::/64", ipv6Gateway: "fd00:1:0:8::1" });
    const portIds = await Promise.all(Array.from({ length: 40 }, () => makePort(sub)));
    await Promise.all(
      portIds.map((portId) =>
        db.transaction(async (tx) => {
          await allocateAddress(tx, sub, { tenantId, portId });
          await ensurePortIpv6(tx, sub, { tenantId, portId });
        }),
      ),
    );
    const v4 = await familyRows(sub.id, 4);
    const v6 = await familyRows(sub.id, 6);
    expect(new Set(v4.map((r) => r.a)).size).toBe(40);
    expect(new Set(v6.map((r) => r.a)).size).toBe(40);
    expect(new Set(v6.map((r) => r.portId))).toEqual(new Set(portIds));
  });

  it.each([
    ["fd00:1:0:6::1", "BAD_REQUEST", "is the gateway"],
    ["fd00:1:0:6::", "BAD_REQUEST", "is the network address"],
    ["fd00:1:0:7::5", "BAD_REQUEST", "is not in subnet"],
    ["10.0.6.3", "BAD_REQUEST", "is not in subnet"],
    ["bogus", "BAD_REQUEST", "is not an IP address"],
  ])("a fixed IPv6 address %s is refused (%s: %s) on field ipv6Address", async (address, code, text) => {
    const sub = await dual();
    const portId = await makePort(sub);
    const err = await failure(ensurePortIpv6(db, sub, { tenantId, portId, address }));
    expect(err.code).toBe(code);
    expect(err.field).toBe("ipv6Address");
    expect(err.message).toContain(text);
    expect(await familyRows(sub.id, 6)).toEqual([]);
  });

  it("a fixed IPv6 address is given once; the second port's request is a CONFLICT on ipv6Address", async () => {
    const sub = await dual();
    const [p1, p2] = [await makePort(sub), await makePort(sub)];
    expect(await ensurePortIpv6(db, sub, { tenantId, portId: p1, address: "fd00:1:0:6::abcd" })).toBe("fd00:1:0:6::abcd");
    const err = await failure(ensurePortIpv6(db, sub, { tenantId, portId: p2, address: "fd00:1:0:6::ABCD" }));
    expect(err.code).toBe("CONFLICT");
    expect(err.field).toBe("ipv6Address");
    expect(await familyRows(sub.id, 6)).toEqual([{ a: "fd00:1:0:6::abcd", portId: p1 }]);
  });
});
