// Test helper: the Redfish simulator's admin API (sim/redfish: /admin/bmcs/<id>…), which sets faults, dialects and
// SEL entries and reads what a BMC's hardware did, behind Anvil's back.
import type { RedfishSim } from "../sim/redfish";

/** `method` on `/admin/bmcs/<path>`; the JSON answer (null for 204). A refusal throws with the simulator's answer. */
export async function bmcAdmin(sim: Pick<RedfishSim, "adminUrl">, method: string, path: string, body?: unknown): Promise<any> {
  const r = await fetch(`${sim.adminUrl}/admin/bmcs/${path}`, {
    method,
    headers: body ? { "content-type": "application/json" } : {},
    body: body ? JSON.stringify(body) : undefined,
  });
  if (r.status >= 400) throw new Error(`admin ${method} ${path}: ${r.status} ${await r.text()}`);
  return r.status === 204 ? null : r.json();
}
