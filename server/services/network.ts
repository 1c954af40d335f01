// The tenant's network objects by id, as every router and workflow that takes one needs them: scoped to the tenant
// (another tenant's VPC, subnet or port does not exist for this caller), optionally locked for update. Also the MAC
// a new port gets.
import { randomBytes } from "node:crypto";
import type { Db, Tx } from "@/db/client";
import { ports, subnets, vpcs } from "@/db/schema";
import { tenantRow } from "./rows";

export const VPC_NOT_FOUND = "That VPC does not exist (it may have been deleted).";

/** The tenant's VPC, locked for update when asked; NOT_FOUND when it is not the tenant's. */
export function tenantVpc(db: Db | Tx, tenantId: string, id: string, lock = false) {
  return tenantRow(db, vpcs, tenantId, id, VPC_NOT_FOUND, lock);
}

export const SUBNET_NOT_FOUND = "That subnet does not exist (it may have been deleted).";

export function tenantSubnet(db: Db | Tx, tenantId: string, id: string, lock = false) {
  return tenantRow(db, subnets, tenantId, id, SUBNET_NOT_FOUND, lock);
}

export const PORT_NOT_FOUND = "That port does not exist (it may have been deleted).";

/** A random locally administered unicast MAC (first octet x2/x6/xA/xE with the multicast bit clear); never in
 *  02:a4:e1:00:00:00/24, the VPC routers' MACs (server/workflows/overlay.ts routerMac), nor 0a:…, their provider sides'. */
export function randomMac(): string {
  const b = randomBytes(6);
  b[0] = (b[0]! & 0xfc) | 0x02;
  if (b[0] === 0x02 && b[1] === 0xa4 && b[2] === 0xe1) b[0] = 0x06;
  if (b[0] === 0x0a) b[0] = 0x0e; // 0a:… are the routers' provider-side MACs (provider-addresses.ts providerMac)
  return [...b].map((x) => x.toString(16).padStart(2, "0")).join(":");
}

export function tenantPort(db: Db | Tx, tenantId: string, id: string, lock = false) {
  return tenantRow(db, ports, tenantId, id, PORT_NOT_FOUND, lock);
}
