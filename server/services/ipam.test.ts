// IPAM against the real Postgres: fixed-address rules, 200 concurrent allocations on a /24 never collide, then the
// subnet runs dry with a clear error; released addresses are handed out again.
import { eq } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";
import * as s from "@/db/schema";
import type { Db } from "@/db/client";
import { uniq, useTestDb } from "@/test/db";
import { type DomainError, isDomainError } from "@/domain/errors";
import { toTrpcError } from "@/server/api/errors";
import { allocateAddress, releaseAllocation, subnetCapacity, type SubnetForIpam, subnetUsage } from "./ipam";
import { insertTenant } from "@/test/fixtures";

let db: Db;
let tenantId: string;

async function makeSubnet(cidr: string, gateway: string, reservedRanges: { start: string; end: string }[] = []): Promise<SubnetForIpam> {
  const vni = 10000 + Math.floor(Math.random() * 16_000_000);
  const [vpc] = await db
    .insert(s.vpcs)
    .values({ tenantId, name: uniq("vpc"), cidr: "10.0.0.0/16", vni })
    .returning();
  const [sub] = await db
    .insert(s.subnets)
    .values({ tenantId, vpcId: vpc!.id, name: uniq("sub"), cidr, gateway, reservedRanges })
    .returning();
  return { id: sub!.id, name: sub!.name, cidr: sub!.cidr, gateway: sub!.gateway, reservedRanges: sub!.reservedRanges };
}

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
