// Instance provisioning workflows (instance.create / instance.delete), built step by step. This first slice is the
// node reservation the create starts with: pick an available, fault-free, non-maintenance host of the pool whose
// DPU has an agent, lock it with FOR UPDATE SKIP LOCKED so concurrent creates take different hosts instead of
// queueing on one, move it available → deploying through the lifecycle table, and bind it to the instance.
// The workflow definitions themselves (and the registry line) are not written yet.
import { and, eq, isNull, sql } from "drizzle-orm";
import type { Tx } from "@/db/client";
import { instances, nodes } from "@/db/schema";
import { type ProvisionState, transition } from "@/server/domain/node-lifecycle";

export interface ReservedNode {
  hostId: string;
  hostName: string;
  dpuId: string;
  agentUrl: string;
  /** Sealed; unseal only where the agent is called. */
  agentToken: string;
}

/**
 * Reserves a host of the pool for the instance, or returns null when none is free (the caller turns that into
 * a clear "no capacity" refusal). Idempotent: when the instance already holds a node, that node is returned.
 */
export async function reserveNode(tx: Tx, poolId: string, instanceId: string): Promise<ReservedNode | null> {
  const [held] = await tx.select({ nodeId: instances.nodeId }).from(instances).where(eq(instances.id, instanceId)).for("update");
  if (!held) throw new Error(`instance ${instanceId} does not exist`);

  const rows = await tx.execute<{ host_id: string; host_name: string; provision_state: string; dpu_id: string; agent_url: string; agent_token: string }>(sql`
    SELECT h.id AS host_id, h.name AS host_name, h.provision_state, d.id AS dpu_id, d.agent_url, d.agent_token
    FROM ${nodes} h
    JOIN ${nodes} d ON d.parent_node_id = h.id AND d.kind = 'dpu' AND d.agent_url IS NOT NULL AND d.agent_token IS NOT NULL
    WHERE ${held.nodeId ? sql`h.id = ${held.nodeId}` : sql`h.pool_id = ${poolId} AND h.kind = 'host' AND h.provision_state = 'available' AND h.maintenance = false AND h.fault IS NULL`}
    ORDER BY h.name, h.id
    LIMIT 1
    FOR UPDATE OF h SKIP LOCKED`);
  const r = rows.rows[0];
  if (!r) return null;
  if (!held.nodeId) {
    const next = transition(r.provision_state as ProvisionState, "deploy");
    await tx.update(nodes).set({ provisionState: next, lastError: null }).where(eq(nodes.id, r.host_id));
    await tx.update(instances).set({ nodeId: r.host_id }).where(and(eq(instances.id, instanceId), isNull(instances.nodeId)));
  }
  return { hostId: r.host_id, hostName: r.host_name, dpuId: r.dpu_id, agentUrl: r.agent_url, agentToken: r.agent_token };
}
