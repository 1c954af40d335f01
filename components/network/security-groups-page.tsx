"use client";
// Tenant security groups: list (filter, cursor pages) with their VPC, rule and port counts; create in a dialog
// (pick the VPC). Rules are edited on the group's own page.
import { useQuery } from "@tanstack/react-query";
import Link from "next/link";
import { useState } from "react";
import { useTRPC } from "@/components/trpc";
import { Badge } from "@/components/ui/badge";
import { columns, ListView, useListTable } from "@/components/ui/list-table";
import { PageHeader } from "@/components/ui/page";
import { SecurityGroupCreateDialog } from "./security-group-create";

interface GroupRow {
  id: string;
  name: string;
  vpcName: string;
  description: string;
  isDefault: boolean;
  ruleCount: number;
  portCount: number;
}
const col = columns<GroupRow>();

export function SecurityGroupsPage({ tenant }: { tenant: string }) {
  const trpc = useTRPC();
  const list = useListTable((cursor, q) => trpc.securityGroups.list.queryOptions({ tenant, q, cursor }));
  const vpcs = useQuery(trpc.vpcs.list.queryOptions({ tenant, limit: 200 }));
  const [creating, setCreating] = useState(false);
  const noVpc = vpcs.data && vpcs.data.items.length === 0 ? "Create a VPC first: security groups belong to a VPC." : null;

  const cols = [
    col.cell("name", "Name", (g) => (
      <span className="flex items-center gap-2">
        <Link className="font-medium text-sky-700 hover:underline dark:text-sky-400" href={`/t/${tenant}/security-groups/${g.id}`}>
          {g.name}
        </Link>
        {g.isDefault ? <Badge tone="sky">default</Badge> : null}
      </span>
    )),
    col.cell("vpc", "VPC", (g) => g.vpcName),
    col.count("rules", "Rules", (g) => g.ruleCount),
    col.count("ports", "Ports", (g) => g.portCount),
    col.muted("description", "Description", (g) => g.description),
  ];

  return (
    <div>
      <PageHeader
        title="Security groups"
        description="Stateful allow-lists the DPU enforces on every port in the group: new connections pass only when a rule allows them."
        buttons={[{ label: "Create security group", variant: "primary", disabledReason: noVpc, onClick: () => setCreating(true) }]}
      />
      <ListView
        list={list}
        label="Security groups"
        columns={cols}
        search={{ label: "Filter security groups", placeholder: "Filter by name or description" }}
        empty={
          list.search.dq
            ? { title: "No group matches the filter", body: `Nothing matches “${list.search.dq}”.` }
            : { title: "No security groups yet", body: "Each VPC gets a default group; create more to open specific ports." }
        }
      />
      {creating && vpcs.data ? <SecurityGroupCreateDialog tenant={tenant} vpcs={vpcs.data.items} onClose={() => setCreating(false)} /> : null}
    </div>
  );
}
