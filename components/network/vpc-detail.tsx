"use client";
// One VPC: its ranges, VNI and default group; its subnets with free/used address counts (create in a dialog with
// gateway/reserved-range/DNS/VLAN fields, an optional IPv6 /64, and field errors; add IPv6 to an IPv4-only subnet;
// delete after confirmation, refused while ports use it); and its ports (vNICs) with their IPv4 and IPv6 addresses,
// MAC and rules version; its external gateway (SNAT through a provider network).
import { useQuery } from "@tanstack/react-query";
import Link from "next/link";
import { useState } from "react";
import { errorInfo, useTRPC } from "@/components/trpc";
import { FormError } from "@/components/ui/form";
import { ConfirmAction, columns, ListView, useConfirmAction, useListTable } from "@/components/ui/list-table";
import { PageHeader } from "@/components/ui/page";
import { ExternalGatewaySelect } from "./vpc-external-gateway";
import { SubnetCreateDialog, SubnetIpv6Dialog } from "./subnet-create";

interface SubnetRow {
  id: string;
  name: string;
  cidr: string;
  gateway: string;
  ipv6Cidr: string | null;
  ipv6Gateway: string | null;
  vlanId: number | null;
  vni: number;
  capacity: number;
  used: number;
  free: number;
  dnsServers: string[];
  reservedRanges: { start: string; end: string }[];
  deleteBlockedReason: string | null;
}
const col = columns<SubnetRow>();

export function VpcDetail({ tenant, vpcId }: { tenant: string; vpcId: string }) {
  const trpc = useTRPC();
  const vpc = useQuery(trpc.vpcs.get.queryOptions({ tenant, id: vpcId }));
  const subnets = useListTable((cursor) => trpc.subnets.list.queryOptions({ tenant, vpcId, cursor }), { resetKey: vpcId, pageSummary: false });
  const ports = useQuery(trpc.ports.list.queryOptions({ tenant, vpcId, limit: 50 }));
  const [creating, setCreating] = useState(false);
  const [addingV6, setAddingV6] = useState<SubnetRow | null>(null);
  const del = useConfirmAction({
    mutation: (o) => trpc.subnets.delete.mutationOptions(o),
    vars: (r: SubnetRow) => ({ tenant, id: r.id }),
    success: (r) => `Subnet ${r.name} deleted.`,
    invalidate: [trpc.subnets.pathFilter(), trpc.vpcs.pathFilter()],
  });

  if (vpc.error) return <FormError message={errorInfo(vpc.error).message} />;
  if (!vpc.data) return <p className="text-sm text-zinc-500">Loading…</p>;
  const v = vpc.data;

  const cols = [
    col.text("name", "Name", (r) => r.name),
    col.cell("cidr", "Range", (r) => <Stacked v4={r.cidr} v6={r.ipv6Cidr} />),
    col.cell("gateway", "Gateway", (r) => <Stacked v4={r.gateway} v6={r.ipv6Gateway} />),
    col.cell("segment", "Segment", (r) => (r.vlanId ? `VLAN ${r.vlanId}` : `VNI ${r.vni}`)),
    col.cell("addresses", "Addresses", (r) => (
      <span className="tabular-nums">
        {r.used} used · {r.free} free
      </span>
    )),
    col.cell("dns", "DNS", (r) => <span className="text-xs">{r.dnsServers.join(", ") || "—"}</span>),
    col.buttons((r) => [
      ...(v.ipv6Cidr && !r.ipv6Cidr ? [{ label: "Add IPv6", name: `Add IPv6 to subnet ${r.name}`, onClick: () => setAddingV6(r) }] : []),
      { label: "Delete", variant: "danger", name: `Delete subnet ${r.name}`, disabledReason: r.deleteBlockedReason, onClick: () => del.ask(r) },
    ]),
  ];

  return (
    <div className="flex flex-col gap-6">
      <div>
        <p className="mb-2 text-sm">
          <Link href={`/t/${tenant}/networks`} className="text-sky-700 hover:underline dark:text-sky-400">
            ← Networks
          </Link>
        </p>
        <PageHeader
          title={`VPC ${v.name}`}
          description={v.description || undefined}
          buttons={[{ label: "Create subnet", variant: "primary", onClick: () => setCreating(true) }]}
        />
        <dl className="grid grid-cols-2 gap-x-6 gap-y-2 text-sm sm:grid-cols-4">
          <div>
            <dt className="text-zinc-500">IPv4 range</dt>
            <dd>
              <code>{v.cidr}</code>
            </dd>
          </div>
          <div>
            <dt className="text-zinc-500">IPv6 range</dt>
            <dd>{v.ipv6Cidr ? <code>{v.ipv6Cidr}</code> : "—"}</dd>
          </div>
          <div>
            <dt className="text-zinc-500">VNI</dt>
            <dd className="tabular-nums">{v.vni}</dd>
          </div>
          <div>
            <dt className="text-zinc-500">External gateway</dt>
            <dd>
              <ExternalGatewaySelect tenant={tenant} vpcId={v.id} current={v.externalNetworkId} />
            </dd>
          </div>
          <div>
            <dt className="text-zinc-500">Default security group</dt>
            <dd>
              {v.defaultGroup ? (
                <Link className="text-sky-700 hover:underline dark:text-sky-400" href={`/t/${tenant}/security-groups/${v.defaultGroup.id}`}>
                  {v.defaultGroup.name}
                </Link>
              ) : (
                "—"
              )}
            </dd>
          </div>
        </dl>
      </div>
      <section aria-label="Subnets">
        <h2 className="mb-2 text-lg font-semibold">Subnets</h2>
        <ListView
          list={subnets}
          label="Subnets"
          columns={cols}
          empty={{ title: "No subnets yet", body: `Create a subnet inside ${v.cidr} to give ports addresses.` }}
        />
      </section>
      <section aria-label="Ports">
        <h2 className="mb-2 text-lg font-semibold">Ports</h2>
        {ports.data?.items.length ? (
          <ul className="divide-y divide-zinc-100 rounded-lg border border-zinc-200 text-sm dark:divide-zinc-800 dark:border-zinc-800">
            {ports.data.items.map((p) => (
              <li key={p.id} className="flex gap-4 px-4 py-2">
                <span className="font-medium">{p.name}</span>
                <code className="text-xs">{p.address ?? "no address"}</code>
                {p.ipv6Address ? <code className="text-xs">{p.ipv6Address}</code> : null}
                <code className="text-xs">{p.mac}</code>
                <span className="text-zinc-500">subnet {p.subnetName}</span>
                <span className="text-zinc-500">rules v{p.rulesVersion}</span>
              </li>
            ))}
          </ul>
        ) : (
          <p className="text-sm text-zinc-500">No ports yet: servers get a port on a subnet when they are provisioned.</p>
        )}
      </section>
      {creating ? <SubnetCreateDialog tenant={tenant} vpcId={vpcId} vpcCidr={v.cidr} vpcIpv6Cidr={v.ipv6Cidr} onClose={() => setCreating(false)} /> : null}
      {addingV6 && v.ipv6Cidr ? <SubnetIpv6Dialog tenant={tenant} subnet={addingV6} vpcIpv6Cidr={v.ipv6Cidr} onClose={() => setAddingV6(null)} /> : null}
      <ConfirmAction
        of={del}
        title={(r) => `Delete subnet ${r.name}?`}
        body={(r) => <p>The subnet {r.cidr} is removed for good. This cannot be undone.</p>}
        confirmLabel="Delete subnet"
      />
    </div>
  );
}

/** A subnet's IPv4 value with its IPv6 one under it (dual stack), or the IPv4 one alone. */
function Stacked({ v4, v6 }: { v4: string; v6: string | null }) {
  return (
    <span className="flex flex-col">
      <code>{v4}</code>
      {v6 ? <code className="text-xs text-zinc-500">{v6}</code> : null}
    </span>
  );
}
