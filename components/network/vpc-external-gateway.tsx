"use client";
// A VPC's external gateway: the provider network its servers reach the outside through (each DPU SNATs the VPC's
// addresses to its own address there). A select that applies on change; errors go to a toast.
import { useMutation, useQuery } from "@tanstack/react-query";
import { errorInfo, useTRPC } from "@/components/trpc";
import { useToast } from "@/components/ui/toast";
import { useDone } from "@/components/ui/use-done";

export function ExternalGatewaySelect({ tenant, vpcId, current }: { tenant: string; vpcId: string; current: string | null }) {
  const trpc = useTRPC();
  const done = useDone();
  const toast = useToast();
  const networks = useQuery(trpc.floatingIps.networks.queryOptions({ tenant }));
  const set = useMutation(
    trpc.vpcs.setExternalGateway.mutationOptions({
      onSuccess: (r) =>
        done(r.externalNetworkId ? "External gateway set: the VPC's servers reach the outside." : "External gateway removed.", trpc.vpcs.pathFilter()),
      onError: (e) => toast("error", errorInfo(e).message),
    }),
  );
  return (
    <select
      aria-label="External gateway"
      className="rounded-md border border-zinc-300 bg-white px-2 py-1 text-sm dark:border-zinc-700 dark:bg-zinc-900"
      value={current ?? ""}
      disabled={set.isPending || !networks.data}
      onChange={(e) => set.mutate({ tenant, id: vpcId, providerNetworkId: e.target.value || null })}
    >
      <option value="">None (no outbound SNAT)</option>
      {(networks.data ?? []).map((n) => (
        <option key={n.id} value={n.id}>
          {n.name} ({n.cidr})
        </option>
      ))}
    </select>
  );
}
