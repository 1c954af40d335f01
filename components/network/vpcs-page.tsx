"use client";
// Tenant VPCs: server-side list with filter and cursor pages, create in a dialog (CIDR errors on the field), delete
// after confirmation. Members create; deleting needs a tenant admin and an empty VPC (the button says why not).
import { useState } from "react";
import { useTRPC } from "@/components/trpc";
import { columns, ConfirmAction, ListView, useConfirmAction, useListTable } from "@/components/ui/list-table";
import { PageHeader } from "@/components/ui/page";
import { VpcCreateDialog } from "./vpc-create";

type Role = "tenant-admin" | "tenant-member";
interface VpcRow {
  id: string;
  name: string;
  description: string;
  cidr: string;
  ipv6Cidr: string | null;
  vni: number;
  subnetCount: number;
  portCount: number;
  createdAt: Date;
}
const col = columns<VpcRow>();

/** Mirrors the router's vpcDeleteBlocker (the server enforces the same rule). */
export function vpcDeleteReason(v: { name: string; subnetCount: number; portCount: number }, role: Role): string | null {
  if (role !== "tenant-admin") return "Only tenant admins can delete a VPC.";
  if (v.portCount > 0) return `VPC ${v.name} still has ${v.portCount} port(s); delete them first.`;
  if (v.subnetCount > 0) return `VPC ${v.name} still has ${v.subnetCount} subnet(s); delete them first.`;
  return null;
}

export function VpcsPage({ tenant, role }: { tenant: string; role: Role }) {
  const trpc = useTRPC();
  const list = useListTable((cursor, q) => trpc.vpcs.list.queryOptions({ tenant, q, cursor }));
  const dq = list.search.dq;
  const [creating, setCreating] = useState(false);
  const del = useConfirmAction({
    mutation: (o) => trpc.vpcs.delete.mutationOptions(o),
    vars: (v: VpcRow) => ({ tenant, id: v.id }),
    success: (v) => `VPC ${v.name} deleted.`,
    invalidate: trpc.vpcs.pathFilter(),
  });

  const cols = [
    col.link(
      "name",
      "Name",
      (v) => v.name,
      (v) => `/t/${tenant}/networks/${v.id}`,
    ),
    col.code("cidr", "IPv4 range", (v) => v.cidr),
    col.optionalCode("ipv6", "IPv6 range", (v) => v.ipv6Cidr),
    col.count("vni", "VNI", (v) => v.vni),
    col.count("subnets", "Subnets", (v) => v.subnetCount),
    col.count("ports", "Ports", (v) => v.portCount),
    col.buttons((v) => [
      { label: "Delete", variant: "danger", name: `Delete VPC ${v.name}`, disabledReason: vpcDeleteReason(v, role), onClick: () => del.ask(v) },
    ]),
  ];

  return (
    <div>
      <PageHeader
        title="Networks"
        description="A VPC is your private, isolated network (its own range and VNI); subnets live inside it."
        buttons={[{ label: "Create VPC", variant: "primary", onClick: () => setCreating(true) }]}
      />
      <ListView
        list={list}
        label="VPCs"
        columns={cols}
        search={{ label: "Filter VPCs", placeholder: "Filter by name or range" }}
        empty={
          dq
            ? { title: "No VPC matches the filter", body: `Nothing matches “${dq}”.` }
            : { title: "No VPCs yet", body: "Create a VPC to give your servers a private network." }
        }
      />
      {creating ? <VpcCreateDialog tenant={tenant} onClose={() => setCreating(false)} /> : null}
      <ConfirmAction
        of={del}
        title={(v) => `Delete VPC ${v.name}?`}
        body={() => <p>The VPC, its VNI and its security groups are removed for good. This cannot be undone.</p>}
        confirmLabel="Delete VPC"
      />
    </div>
  );
}
