// Enrollment: probe the BMC (and the DPU's, if given) with the credentials, and only then record the node,
// in one transaction — so an unreachable address, wrong credentials or a BMC that answers garbage leaves
// nothing half-enrolled. Used by nodes.enroll (one node) and the bulk-enroll workflow (CSV rows). Every address
// (host BMC, DPU BMC, DPU agent) must be on the management network (server/lib/mgmt-network.ts) before anything is
// contacted; the drivers enforce it again on the address they connect to.
import crypto from "node:crypto";
import { eq, or } from "drizzle-orm";
import type { Db } from "@/db/client";
import { nodes } from "@/db/schema";
import { type EnrollInput, enrollSchema, normaliseBmcAddress } from "@/db/validation/nodes";
import { audit } from "@/server/services/audit";
import type { Principal } from "@/server/auth/principal";
import { type BmcEndpoint, type BmcInventory, createBmcDriver, isBmcError } from "@/server/drivers/bmc";
import { checkMgmtTarget } from "@/server/lib/mgmt-network";
import { fingerprint, seal } from "@/server/lib/secrets";
import { DPU_CREDENTIALS_NEEDED } from "./bmc-access";
import { recordEvents } from "./events";

export const SYNC_SHARDS = 16;
export function shardOf(id: string): number {
  return crypto.createHash("sha1").update(id).digest()[0]! % SYNC_SHARDS;
}

export type EnrollResult = { ok: true; nodeId: string; name: string; dpuId: string | null } | { ok: false; field: string; message: string };

/** An operator-readable sentence for a failed BMC probe. */
export function probeMessage(e: unknown, address: string): string {
  if (!isBmcError(e)) return `Could not talk to the BMC at ${address}: ${(e as Error).message}`;
  switch (e.code) {
    case "unreachable":
      return `No BMC answers at ${address} (${e.message}). Check the address and the management network.`;
    case "auth":
      return `The BMC at ${address} refused the credentials: ${e.message}`;
    case "timeout":
      return `The BMC at ${address} did not answer in time: ${e.message}`;
    case "tls":
      // The driver's message already names the BMC and the remedy: the certificate problem itself, once.
      return `The BMC at ${address} presented a certificate Anvil does not trust (${e.detail ?? e.message}). Install a trusted certificate on the BMC, or turn off "verify certificate" for this node.`;
    case "invalid":
      // The address itself is wrong in a way the driver explains (http:// to an HTTPS port, a BMC with several
      // systems and no system named): its words say what to enter instead.
      return e.message;
    case "bad_response":
      return `Something answers at ${address}, but not as a BMC of that protocol: ${e.message}`;
    case "forbidden":
      return e.message;
    default:
      return `The BMC at ${address} reported an error: ${e.message}`;
  }
}

interface Probe {
  power: string;
  health: string;
  inventory: BmcInventory;
}

async function probe(ep: BmcEndpoint): Promise<Probe> {
  const d = createBmcDriver({ ...ep, timeoutMs: Number(process.env.ANVIL_ENROLL_TIMEOUT_MS ?? 8000), retries: 1 });
  try {
    const power = await d.getPowerState();
    const inventory = await d.getInventory();
    const h = await d.getHealth();
    return { power, health: h.health, inventory };
  } finally {
    await d.close().catch(() => {});
  }
}

function summary(inv: BmcInventory): Record<string, unknown> {
  const { raw: _raw, ...rest } = inv;
  return rest as unknown as Record<string, unknown>;
}

/**
 * The DPU BMCs a host's BMC names: the base URL of each DPU its NetworkDeviceFunctions offload to, else the vendor hint
 * (lab: Oem.Anvil.DpuBmcUrl). Enrollment (given the DPU's credentials but no address) and inspection both start here.
 */
export function dpuBmcUrls(inv: Pick<BmcInventory, "dpus" | "dpuBmcUrl">): string[] {
  const linked = [...new Set((inv.dpus ?? []).flatMap((l) => (l.bmcUrl ? [l.bmcUrl] : [])))];
  return linked.length === 0 && inv.dpuBmcUrl ? [inv.dpuBmcUrl] : linked;
}

/**
 * The DPU BMCs a host's BMC carries behind it (a BMC cascade): the proxy paths on the host's BMC it names for them,
 * normalised as addresses are stored. Such a DPU has no address of its own; it is reached there with its own credentials.
 */
export function cascadeUrls(inv: Pick<BmcInventory, "dpus">): string[] {
  return (inv.dpus ?? []).flatMap((l) => {
    const a = l.via === "cascade" && l.bmcUrl ? normaliseBmcAddress("redfish", l.bmcUrl) : null;
    return a?.ok ? [a.value] : [];
  });
}

export async function enrollNode(db: Db, raw: EnrollInput, actor: { principal: Principal | null; requestId: string }): Promise<EnrollResult> {
  const parsed = enrollSchema.safeParse(raw);
  if (!parsed.success) {
    const i = parsed.error.issues[0]!;
    return { ok: false, field: i.path.join(".") || "_", message: i.message };
  }
  const input = parsed.data;
  const address = (normaliseBmcAddress(input.driver, input.address) as { value: string }).value;
  const dpuDriver = input.dpu?.driver ?? "redfish";
  let dpuAddress = input.dpu?.address ? (normaliseBmcAddress(dpuDriver, input.dpu.address) as { value: string }).value : null;

  // Refused addresses are a validation error, before any lookup of what is enrolled or any packet sent. A name that
  // does not resolve is left to the probe, which says so in its own words.
  for (const [field, target] of [
    ["address", address],
    ["dpu.address", dpuAddress],
    ["dpu.agentUrl", input.dpu?.agentUrl || null],
  ] as const) {
    if (!target) continue;
    const where = await checkMgmtTarget(target);
    if (!where.ok && !where.unresolved) return { ok: false, field, message: where.message };
  }

  const clash = await db
    .select({ name: nodes.name, bmcAddress: nodes.bmcAddress })
    .from(nodes)
    .where(or(eq(nodes.name, input.name), eq(nodes.bmcAddress, address), dpuAddress ? eq(nodes.bmcAddress, dpuAddress) : undefined));
  for (const c of clash) {
    if (c.name === input.name) return { ok: false, field: "name", message: `A node named ${input.name} is already enrolled.` };
    if (c.bmcAddress === address) return { ok: false, field: "address", message: `The BMC at ${address} is already enrolled as ${c.name}.` };
    if (c.bmcAddress === dpuAddress) return { ok: false, field: "dpu.address", message: `The DPU BMC at ${dpuAddress} is already enrolled as ${c.name}.` };
  }

  const creds = { username: input.username, password: input.password };
  let host: Probe;
  try {
    host = await probe({ driver: input.driver, address, credentials: creds, verifyTls: input.verifyTls });
  } catch (e) {
    return { ok: false, field: "address", message: probeMessage(e, address) };
  }
  if (host.inventory.systemType === "dpu")
    return { ok: false, field: "address", message: `${address} is a DPU's BMC. Enroll its host; the DPU is discovered as its child.` };

  // The DPU's own credentials without its address: the DPU is the one the host's BMC names (found as inspection finds
  // it), checked like a given address before it is called with them.
  if (!dpuAddress && input.dpu?.username && input.dpu.password) {
    const found = dpuBmcUrls(host.inventory)
      .map((u) => normaliseBmcAddress("redfish", u))
      .find((a) => a.ok);
    if (!found?.ok) return { ok: false, field: "dpu.address", message: `The BMC at ${address} names no DPU: enter the DPU BMC's address.` };
    const where = await checkMgmtTarget(found.value);
    if (!where.ok && !where.unresolved) return { ok: false, field: "dpu.address", message: `The DPU the host names: ${where.message}` };
    const [taken] = await db.select({ name: nodes.name }).from(nodes).where(eq(nodes.bmcAddress, found.value));
    if (taken) return { ok: false, field: "dpu.address", message: `The DPU BMC at ${found.value} is already enrolled as ${taken.name}.` };
    dpuAddress = found.value;
  }

  // A DPU's BMC is called only with its own credentials, never its host's: a DPU given without them is recorded
  // uncalled and waits for them (DPU_CREDENTIALS_NEEDED), as one found at inspection does.
  const dpuCreds = input.dpu?.username && input.dpu.password ? { username: input.dpu.username, password: input.dpu.password } : null;
  if (dpuAddress && !dpuCreds && (input.dpu?.username || input.dpu?.password))
    return {
      ok: false,
      field: input.dpu?.username ? "dpu.password" : "dpu.username",
      message: "Enter both the DPU BMC's user name and password, or neither (Anvil does not reuse the host's; the DPU then waits for its own).",
    };
  // Reached through the host's BMC when that is where the host's BMC says the DPU's BMC is.
  const dpuAccess = dpuAddress && cascadeUrls(host.inventory).includes(dpuAddress) ? "cascade" : "direct";
  let dpu: Probe | null = null;
  if (dpuAddress && dpuCreds) {
    try {
      dpu = await probe({ driver: dpuDriver, address: dpuAddress, credentials: dpuCreds, verifyTls: input.verifyTls });
    } catch (e) {
      return { ok: false, field: "dpu.address", message: probeMessage(e, dpuAddress) };
    }
    if (dpu.inventory.systemType === "physical")
      return { ok: false, field: "dpu.address", message: `${dpuAddress} answers as a server, not as a DPU (SystemType is not "DPU").` };
  }

  const hostId = crypto.randomUUID();
  const dpuId = dpuAddress ? crypto.randomUUID() : null;
  const agentUrl = input.dpu?.agentUrl || ((dpu?.inventory as { agentUrl?: string | null } | undefined)?.agentUrl ?? null);
  try {
    await db.transaction(async (tx) => {
      const sealed = JSON.stringify(creds);
      await tx.insert(nodes).values({
        id: hostId,
        name: input.name,
        kind: "host",
        poolId: input.poolId,
        bmcDriver: input.driver,
        bmcAddress: address,
        bmcVerifyTls: input.verifyTls,
        bmcCredentials: seal(sealed),
        bmcCredentialsFingerprint: fingerprint(sealed),
        provisionState: "manageable",
        powerState: host.power,
        health: host.health,
        inventory: summary(host.inventory),
        traits: input.traits,
        bmcSeenAt: new Date(),
        syncShard: shardOf(hostId),
      });
      if (dpu && dpuCreds && dpuId && dpuAddress) {
        const dsealed = JSON.stringify(dpuCreds);
        await tx.insert(nodes).values({
          id: dpuId,
          name: `${input.name}-dpu`,
          kind: "dpu",
          parentNodeId: hostId,
          poolId: input.poolId,
          bmcDriver: dpuDriver,
          bmcAddress: dpuAddress,
          bmcAccess: dpuAccess,
          bmcVerifyTls: input.verifyTls,
          bmcCredentials: seal(dsealed),
          bmcCredentialsFingerprint: fingerprint(dsealed),
          provisionState: "manageable",
          powerState: dpu.power,
          health: dpu.health,
          dedicatedPower: input.dedicatedPower,
          inventory: summary(dpu.inventory),
          agentUrl,
          agentToken: input.dpu?.agentToken ? seal(input.dpu.agentToken) : null,
          bmcSeenAt: new Date(),
          syncShard: shardOf(dpuId),
        });
      }
      if (!dpuCreds && dpuId && dpuAddress)
        await tx.insert(nodes).values({
          id: dpuId,
          name: `${input.name}-dpu`,
          kind: "dpu",
          parentNodeId: hostId,
          poolId: input.poolId,
          bmcDriver: dpuDriver,
          bmcAddress: dpuAddress,
          bmcAccess: dpuAccess,
          bmcVerifyTls: input.verifyTls,
          provisionState: "manageable",
          dedicatedPower: input.dedicatedPower,
          fault: DPU_CREDENTIALS_NEEDED,
          agentUrl,
          agentToken: input.dpu?.agentToken ? seal(input.dpu.agentToken) : null,
          syncShard: shardOf(dpuId),
        });
      const ev = (nodeId: string, message: string, severity: "info" | "warning" = "info") => ({ nodeId, kind: "lifecycle" as const, severity, message });
      await recordEvents(tx, [
        ev(hostId, `Enrolled; BMC ${address} verified (${input.driver}); enroll → verifying → manageable.`),
        ...(dpuId && dpu
          ? [
              ev(
                dpuId,
                `Enrolled as the DPU of ${input.name}; BMC ${dpuAddress} verified (${dpuDriver}${dpuAccess === "cascade" ? ", through the host's BMC: cascade" : ""}).`,
              ),
            ]
          : []),
        ...(dpuId && !dpu
          ? [ev(dpuId, `Enrolled as the DPU of ${input.name} at ${dpuAddress}; its BMC waits for its own credentials (the host's are not reused).`, "warning")]
          : []),
      ]);
      await audit(tx, actor, {
        action: "node.enroll",
        targetType: "node",
        targetId: hostId,
        targetName: input.name,
        details: {
          driver: input.driver,
          address,
          dpu: dpuAddress,
          ...(dpuAccess === "cascade" ? { dpuAccess } : {}),
          poolId: input.poolId,
          credentials: fingerprint(sealed),
          ...(input.traits.length ? { traits: input.traits } : {}),
        },
      });
    });
  } catch (e) {
    const code = (e as { code?: string; cause?: { code?: string } }).code ?? (e as { cause?: { code?: string } }).cause?.code;
    if (code === "23505") return { ok: false, field: "name", message: "Another enrollment of the same node or BMC finished first." };
    throw e;
  }
  return { ok: true, nodeId: hostId, name: input.name, dpuId };
}
