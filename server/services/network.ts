// The tenant's network objects by id, as every router and workflow that takes one needs them: scoped to the tenant
// (another tenant's VPC, subnet or port does not exist for this caller), optionally locked for update. Also the MAC
// a new port gets.
import { randomBytes } from "node:crypto";
import { and, eq } from "drizzle-orm";
import type { Db, Tx } from "@/db/client";
import { ports, subnets, vpcs } from "@/db/schema";
import { notFound } from "@/domain/errors";

export const VPC_NOT_FOUND = "That VPC does not exist (it may have been deleted).";

/** The tenant's VPC, locked for update when asked; NOT_FOUND when it is not the tenant's. */
export async function tenantVpc(db: Db | Tx, tenantId: string, id: string, lock = false) {
  const q = db
    .select()
    .from(vpcs)
    .where(and(eq(vpcs.id, id), eq(vpcs.tenantId, tenantId)));
  const [row] = lock ? await q.for("update") : await q;
  if (!row) throw notFound(VPC_NOT_FOUND);
  return row;
}

export const SUBNET_NOT_FOUND = "That subnet does not exist (it may have been deleted).";

export async function tenantSubnet(db: Db | Tx, tenantId: string, id: string, lock = false) {
  const q = db
    .select()
    .from(subnets)
    .where(and(eq(subnets.id, id), eq(subnets.tenantId, tenantId)));
  const [row] = lock ? await q.for("update") : await q;
  if (!row) throw notFound(SUBNET_NOT_FOUND);
  return row;
}

export const PORT_NOT_FOUND = "That port does not exist (it may have been deleted).";

/** A random locally administered unicast MAC (first octet x2/x6/xA/xE with the multicast bit clear). */
export function randomMac(): string {
  const b = randomBytes(6);
  b[0] = (b[0]! & 0xfc) | 0x02;
  return [...b].map((x) => x.toString(16).padStart(2, "0")).join(":");
}

export async function tenantPort(db: Db | Tx, tenantId: string, id: string, lock = false) {
  const q = db
    .select()
    .from(ports)
    .where(and(eq(ports.id, id), eq(ports.tenantId, tenantId)));
  const [row] = lock ? await q.for("update") : await q;
  if (!row) throw notFound(PORT_NOT_FOUND);
  return row;
}
