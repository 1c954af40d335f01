"use client";
// What the webhook components share: one client for both routers (the tenant's procedures take the tenant slug
// too), the events' labels, and a delivery status's badge tone.
import { useTRPC } from "@/components/trpc";

export const EVENT_LABELS: Record<string, string> = {
  "instance.state_changed": "An instance changes state",
  "operation.succeeded": "An operation succeeds",
  "operation.failed": "An operation fails",
  "operation.cancelled": "An operation is cancelled",
  "node.fault": "A node's fault is raised or cleared",
};

export const tone = (status: string) => (status === "delivered" ? "green" : status === "failed" ? "red" : "amber");

/** Both routers have the same procedures; the tenant's take the tenant slug too. */
export function useWebhooksApi(tenant: string | null) {
  const trpc = useTRPC();
  const r = (tenant ? trpc.webhooks : trpc.platformWebhooks) as unknown as typeof trpc.webhooks;
  const withTenant = <T extends object>(input: T) => ({ ...input, tenant: tenant ?? "" }) as T & { tenant: string };
  return { r, withTenant };
}
