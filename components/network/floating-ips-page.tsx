"use client";
// Tenant floating IPs: list (filter, cursor pages) with the address, its provider network and the instance it is
// attached to and whether its DPU has it yet; Allocate (dialog), Attach / Move (dialog), Detach and Release (confirm).
import { useQuery } from "@tanstack/react-query";
import Link from "next/link";
import { useState } from "react";
import { useTRPC } from "@/components/trpc";
import { Badge } from "@/components/ui/badge";
import { ConfirmAction, columns, ListView, useConfirmAction, useListTable } from "@/components/ui/list-table";
import { PageHeader } from "@/components/ui/page";
import { FloatingIpAllocateDialog } from "./floating-ip-allocate";
import { FloatingIpAttachDialog } from "./floating-ip-attach";

interface FipRow {
  id: string;
  address: string;
  providerNetworkName: string;
  portId: string | null;
  portName: string | null;
  fixedIp: string | null;
  instanceId: string | null;
  instanceName: string | null;
  onDpu: { state: "applied" | "pending" | "failed"; error: string | null; dpuName: string } | null;
}
const col = columns<FipRow>();

export function FloatingIpsPage({ tenant }: { tenant: string }) {
  const trpc = useTRPC();
  // Polled while an attachment is on its way to its DPU.
  const list = useListTable((cursor, q) => trpc.floatingIps.list.queryOptions({ tenant, q, cursor }), {
    poll: (d) => (d?.items.some((r) => r.onDpu?.state === "pending") ? 2000 : 15_000),
  });
  const networks = useQuery(trpc.floatingIps.networks.queryOptions({ tenant }));
  const [allocating, setAllocating] = useState(false);
  const [attaching, setAttaching] = useState<{ fip: FipRow; verb: "attach" | "move" } | null>(null);
  const invalidate = [trpc.floatingIps.pathFilter(), trpc.instances.pathFilter()];
  const detach = useConfirmAction({
    mutation: (o) => trpc.floatingIps.detach.mutationOptions(o),
    vars: (r: FipRow) => ({ tenant, id: r.id }),
    success: (r) => `Floating IP ${r.address} detached.`,
    invalidate,
  });
  const release = useConfirmAction({
    mutation: (o) => trpc.floatingIps.release.mutationOptions(o),
    vars: (r: FipRow) => ({ tenant, id: r.id }),
    success: (r) => `Floating IP ${r.address} released.`,
    invalidate,
  });
  const noNetwork = networks.data && networks.data.length === 0 ? "No provider network offers floating IPs yet; ask an operator." : null;

  const cols = [
    col.code("address", "Address", (r) => r.address),
    col.cell("network", "Provider network", (r) => r.providerNetworkName),
    col.cell("instance", "Attached to", (r) =>
      r.instanceId ? (
        <span>
          <Link className="font-medium text-sky-700 hover:underline dark:text-sky-400" href={`/t/${tenant}/instances/${r.instanceId}`}>
            {r.instanceName}
          </Link>{" "}
          <code className="text-xs text-zinc-500">{r.fixedIp}</code>
        </span>
      ) : (
        <span className="text-zinc-400">not attached</span>
      ),
    ),
    col.cell("dpu", "On the DPU", (r) =>
      r.onDpu ? (
        <Badge tone={r.onDpu.state === "applied" ? "green" : r.onDpu.state === "failed" ? "red" : "amber"} title={r.onDpu.error ?? `DPU ${r.onDpu.dpuName}`}>
          {r.onDpu.state === "applied" ? `applied on ${r.onDpu.dpuName}` : r.onDpu.state === "failed" ? `failed on ${r.onDpu.dpuName}` : "pending"}
        </Badge>
      ) : (
        <span className="text-zinc-400">—</span>
      ),
    ),
    col.buttons((r) => [
      r.portId
        ? { label: "Move", name: `Move ${r.address}`, onClick: () => setAttaching({ fip: r, verb: "move" }) }
        : { label: "Attach", name: `Attach ${r.address}`, onClick: () => setAttaching({ fip: r, verb: "attach" }) },
      r.portId ? { label: "Detach", name: `Detach ${r.address}`, onClick: () => detach.ask(r) } : null,
      { label: "Release", name: `Release ${r.address}`, variant: "danger", onClick: () => release.ask(r) },
    ]),
  ];

  return (
    <div>
      <PageHeader
        title="Floating IPs"
        description="Public addresses from the operator's provider networks. Attached to an instance's NIC, the NIC's DPU answers for the address and NATs it to the NIC's private address."
        buttons={[{ label: "Allocate floating IP", variant: "primary", disabledReason: noNetwork, onClick: () => setAllocating(true) }]}
      />
      <ListView
        list={list}
        label="Floating IPs"
        columns={cols}
        search={{ label: "Filter floating IPs", placeholder: "Filter by address, network or instance" }}
        empty={
          list.search.dq
            ? { title: "No floating IP matches the filter", body: `Nothing matches “${list.search.dq}”.` }
            : { title: "No floating IPs yet", body: "Allocate one from a provider network, then attach it to an instance." }
        }
      />
      {allocating && networks.data ? <FloatingIpAllocateDialog tenant={tenant} networks={networks.data} onClose={() => setAllocating(false)} /> : null}
      {attaching ? <FloatingIpAttachDialog tenant={tenant} fip={attaching.fip} verb={attaching.verb} onClose={() => setAttaching(null)} /> : null}
      <ConfirmAction
        of={detach}
        title={(r) => `Detach ${r.address}?`}
        body={(r) => `${r.instanceName} stops answering on ${r.address}; you keep the address.`}
        confirmLabel="Detach"
      />
      <ConfirmAction
        of={release}
        title={(r) => `Release ${r.address}?`}
        body={(r) =>
          r.instanceName
            ? `${r.address} is detached from ${r.instanceName} and goes back to ${r.providerNetworkName}; you may not get it again.`
            : `${r.address} goes back to ${r.providerNetworkName}; you may not get it again.`
        }
        confirmLabel="Release"
      />
    </div>
  );
}
