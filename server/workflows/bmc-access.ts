// Drivers for enrolled nodes: unseals the stored credentials and keeps one driver (and so one Redfish
// session) per node, replaced when the node's BMC settings change. Bounded (LRU) so a huge fleet can't grow it
// without limit.
import { BmcError, type BmcDriver, type BmcEndpoint, createBmcDriver } from "@/server/drivers/bmc";
import { unseal } from "@/server/lib/secrets";

export interface NodeBmc {
  id: string;
  bmcDriver: "redfish" | "ipmi";
  bmcAddress: string;
  /** Null: a DPU whose own BMC credentials were never given (see db/schema/hardware.ts). */
  bmcCredentials: string | null;
  bmcVerifyTls: boolean;
}

/** What an operator reads when a DPU's BMC cannot be called for want of its credentials. */
export const DPU_CREDENTIALS_NEEDED = "DPU BMC credentials needed: Anvil does not reuse the host's; set them on the DPU's page (\"Set DPU BMC credentials\").";

/** Refused before any packet is sent: a node without credentials is never called with someone else's. */
export function credentialsNeeded(n: Pick<NodeBmc, "bmcAddress">): BmcError {
  return new BmcError("auth", n.bmcAddress, DPU_CREDENTIALS_NEEDED);
}

const MAX = Number(process.env.ANVIL_DRIVER_CACHE ?? 30_000);
const g = globalThis as unknown as { __anvilDrivers?: Map<string, { key: string; driver: BmcDriver }> };
g.__anvilDrivers ??= new Map();
const cache = g.__anvilDrivers;

export function endpointFor(n: NodeBmc, opts: { timeoutMs?: number; retries?: number } = {}): BmcEndpoint {
  if (n.bmcCredentials === null) throw credentialsNeeded(n);
  const credentials = JSON.parse(unseal(n.bmcCredentials)) as { username: string; password: string };
  return { driver: n.bmcDriver, address: n.bmcAddress, credentials, verifyTls: n.bmcVerifyTls, ...opts };
}

export function driverFor(n: NodeBmc): BmcDriver {
  if (n.bmcCredentials === null) throw credentialsNeeded(n);
  const key = `${n.bmcDriver}|${n.bmcAddress}|${n.bmcCredentials}|${n.bmcVerifyTls}`;
  const hit = cache.get(n.id);
  if (hit && hit.key === key) {
    cache.delete(n.id);
    cache.set(n.id, hit);
    return hit.driver;
  }
  if (hit) void hit.driver.close().catch(() => {});
  const driver = createBmcDriver(endpointFor(n, { timeoutMs: Number(process.env.ANVIL_BMC_TIMEOUT_MS ?? 10_000) }));
  cache.set(n.id, { key, driver });
  if (cache.size > MAX) {
    const [oldId, old] = cache.entries().next().value as [string, { driver: BmcDriver }];
    cache.delete(oldId);
    void old.driver.close().catch(() => {});
  }
  return driver;
}

export function forgetDriver(nodeId: string) {
  const hit = cache.get(nodeId);
  cache.delete(nodeId);
  if (hit) void hit.driver.close().catch(() => {});
}

export async function closeAllDrivers() {
  const all = [...cache.values()];
  cache.clear();
  await Promise.all(all.map((d) => d.driver.close().catch(() => {})));
}
