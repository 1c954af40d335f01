"use client";
// Operator networking: usage at a glance (VNIs, VLANs, addresses), every tenant's VPCs and subnets, and provider
// (external) networks for public addresses with create/edit (gateway, MAC, range)/delete for operator admins and their
// allocation (floating IPs and SNAT addresses used of the total, by tenant).
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { errorInfo, useTRPC } from "@/components/trpc";
import { Button } from "@/components/ui/button";
import { DataTable } from "@/components/ui/data-table";
import { Field } from "@/components/ui/form";
import { ConfirmAction, columns, ListView, SearchBox, useConfirmAction, useListTable, useSearch } from "@/components/ui/list-table";
import { EmptyState, PageHeader } from "@/components/ui/page";
import { useToast } from "@/components/ui/toast";
import { useDebounced } from "@/components/ui/use-cursor-pages";
import { operatorCan, reasonOf } from "@/domain/roles";
import { ProviderNetworkCreateDialog } from "./provider-network-create";
import { ProviderNetworkEditDialog } from "./provider-network-edit";

interface VpcRow {
  id: string;
  name: string;
  tenantSlug: string;
  cidr: string;
  vni: number;
  subnetCount: number;
}
interface SubnetRow {
  id: string;
  name: string;
  tenantSlug: string;
  vpcName: string;
  cidr: string;
  vlanId: number | null;
  vni: number;
  used: number;
}
interface ProviderRow {
  id: string;
  name: string;
  cidr: string;
  vlanId: number;
  description: string;
  gateway: string | null;
  gatewayMac: string | null;
  rangeStart: string | null;
  rangeEnd: string | null;
  used: number;
  total: number;
  usableReason: string | null;
}

const vpcCol = columns<VpcRow>();
const subnetCol = columns<SubnetRow>();
const providerCol = columns<ProviderRow>();

export function OpsNetworksPage() {
  const trpc = useTRPC();
  const me = useQuery(trpc.session.me.queryOptions());
  const changeReason = me.data ? reasonOf(operatorCan.change(me.data.platformRole)) : "Loading your permissions…";
  const overview = useQuery(trpc.networksAdmin.overview.queryOptions());
  const search = useSearch();
  const dq = search.dq;
  const vpcs = useListTable((cursor) => trpc.networksAdmin.vpcs.queryOptions({ q: dq || undefined, cursor }), { resetKey: dq, pageSummary: false });
  const subnets = useListTable((cursor) => trpc.networksAdmin.subnets.queryOptions({ q: dq || undefined, cursor }), { resetKey: dq, pageSummary: false });
  const providers = useQuery(trpc.networksAdmin.providerNetworks.queryOptions({ limit: 200 }));
  const [creating, setCreating] = useState(false);
  const [editing, setEditing] = useState<ProviderRow | null>(null);
  const [usageOf, setUsageOf] = useState<string | null>(null);
  const del = useConfirmAction({
    mutation: (o) => trpc.networksAdmin.deleteProviderNetwork.mutationOptions(o),
    vars: (p: ProviderRow) => ({ id: p.id }),
    success: (p) => `Provider network ${p.name} deleted.`,
    invalidate: trpc.networksAdmin.pathFilter(),
  });

  const vpcCols = [
    vpcCol.count("vni", "VNI", (v) => v.vni),
    vpcCol.cell("tenant", "Tenant", (v) => v.tenantSlug),
    vpcCol.text("name", "VPC", (v) => v.name),
    vpcCol.code("cidr", "Range", (v) => v.cidr),
    vpcCol.count("subnets", "Subnets", (v) => v.subnetCount),
  ];
  const subnetCols = [
    subnetCol.cell("tenant", "Tenant", (s) => s.tenantSlug),
    subnetCol.cell("vpc", "VPC", (s) => s.vpcName),
    subnetCol.text("name", "Subnet", (s) => s.name),
    subnetCol.code("cidr", "Range", (s) => s.cidr),
    subnetCol.cell("segment", "Segment", (s) => (s.vlanId ? `VLAN ${s.vlanId}` : `VNI ${s.vni}`)),
    subnetCol.count("used", "Addresses used", (s) => s.used),
  ];
  const providerCols = [
    providerCol.text("name", "Name", (p) => p.name),
    providerCol.code("cidr", "Range", (p) => p.cidr),
    providerCol.count("vlan", "VLAN", (p) => p.vlanId),
    providerCol.cell("gateway", "Gateway", (p) =>
      p.gateway ? (
        <code className="text-xs">
          {p.gateway} · {p.gatewayMac}
        </code>
      ) : (
        <span className="text-amber-700 dark:text-amber-400">not set: no floating IPs until it is</span>
      ),
    ),
    providerCol.cell("allocation", "Allocated", (p) => (
      <span className="tabular-nums">
        {p.used} / {p.total}
      </span>
    )),
    providerCol.cell("description", "Description", (p) => p.description),
    providerCol.actions((p) => (
      <>
        <Button size="sm" aria-label={`Allocation of ${p.name}`} onClick={() => setUsageOf(usageOf === p.id ? null : p.id)}>
          By tenant
        </Button>
        <Button size="sm" aria-label={`Edit provider network ${p.name}`} disabledReason={changeReason} onClick={() => setEditing(p)}>
          Edit
        </Button>
        <Button size="sm" variant="danger" aria-label={`Delete provider network ${p.name}`} disabledReason={changeReason} onClick={() => del.ask(p)}>
          Delete
        </Button>
      </>
    )),
  ];
  const o = overview.data;
  return (
    <div className="flex flex-col gap-8">
      <PageHeader title="Networks" description="Every tenant's VPCs and subnets, VNI and VLAN usage, and the provider networks that carry public addresses." />
      <dl className="grid grid-cols-2 gap-4 sm:grid-cols-5" aria-label="Network usage">
        {[
          ["VPCs", o?.vpcs],
          ["VNIs free", o?.vniRange.free],
          ["Subnets", o?.subnets],
          ["Subnet VLANs in use", o?.subnetVlansInUse],
          ["Addresses allocated", o?.addresses],
        ].map(([label, value]) => (
          <div key={String(label)} className="rounded-lg border border-zinc-200 p-3 dark:border-zinc-800">
            <dt className="text-xs text-zinc-500">{label}</dt>
            <dd className="text-xl font-semibold tabular-nums">{value ?? "…"}</dd>
          </div>
        ))}
      </dl>
      <SearchBox {...search.box} label="Filter networks" placeholder="Filter by tenant, name, range or VNI" />
      <section aria-label="VPCs">
        <h2 className="mb-2 text-lg font-semibold">VPCs</h2>
        <ListView list={vpcs} label="All VPCs" columns={vpcCols} empty={{ title: "No VPCs", body: "Tenants have not created any VPCs yet." }} />
      </section>
      <section aria-label="Subnets">
        <h2 className="mb-2 text-lg font-semibold">Subnets</h2>
        <ListView list={subnets} label="All subnets" columns={subnetCols} empty={{ title: "No subnets", body: "Tenants have not created any subnets yet." }} />
      </section>
      <section aria-label="Provider networks">
        <div className="mb-2 flex items-center justify-between">
          <h2 className="text-lg font-semibold">Provider networks</h2>
          <Button variant="primary" disabledReason={changeReason} onClick={() => setCreating(true)}>
            Create provider network
          </Button>
        </div>
        <DataTable
          label="Provider networks"
          columns={providerCols}
          rows={providers.data?.items ?? []}
          loading={providers.isFetching}
          error={providers.error ? errorInfo(providers.error).message : null}
          empty={<EmptyState title="No provider networks" body="Add the external ranges (and their VLANs) your uplinks carry." />}
        />
        {usageOf ? <ProviderUsage id={usageOf} /> : null}
        <p className="mt-3 text-sm text-zinc-600 dark:text-zinc-400">
          Tenants allocate floating IPs from a provider network once its gateway and gateway MAC are set; each DPU hosting a server of a VPC with an external
          gateway also takes one address for SNAT.
        </p>
      </section>
      <TenantPolicyForm changeReason={changeReason} />
      {creating ? <ProviderNetworkCreateDialog onClose={() => setCreating(false)} /> : null}
      {editing ? <ProviderNetworkEditDialog network={editing} onClose={() => setEditing(null)} /> : null}
      <ConfirmAction
        of={del}
        title={(p) => `Delete provider network ${p.name}?`}
        body={(p) => (
          <p>
            The record of {p.cidr} on VLAN {p.vlanId} is removed. This cannot be undone.
          </p>
        )}
        confirmLabel="Delete provider network"
      />
    </div>
  );
}

/** One provider network's allocation by tenant: floating IPs (attached of them) and SNAT addresses. */
function ProviderUsage({ id }: { id: string }) {
  const trpc = useTRPC();
  const usage = useQuery(trpc.networksAdmin.providerNetworkUsage.queryOptions({ id }));
  const u = usage.data;
  if (usage.error) return <p className="mt-2 text-sm text-red-700">{errorInfo(usage.error).message}</p>;
  if (!u) return <p className="mt-2 text-sm text-zinc-500">Loading…</p>;
  return (
    <section aria-label={`Allocation of ${u.name}`} className="mt-3 rounded-lg border border-zinc-200 p-3 text-sm dark:border-zinc-800">
      <h3 className="mb-1 font-semibold">
        {u.name}: {u.used} of {u.total} addresses in use
      </h3>
      {u.byTenant.length ? (
        <table aria-label={`Allocation of ${u.name} by tenant`} className="w-full text-left">
          <thead>
            <tr className="text-zinc-500">
              <th className="py-1 font-normal">Tenant</th>
              <th className="py-1 font-normal">Floating IPs</th>
              <th className="py-1 font-normal">Attached</th>
              <th className="py-1 font-normal">SNAT</th>
            </tr>
          </thead>
          <tbody>
            {u.byTenant.map((b) => (
              <tr key={b.tenantId} className="border-t border-zinc-200 dark:border-zinc-800">
                <td className="py-1">{b.tenantSlug}</td>
                <td className="tabular-nums">{b.floating}</td>
                <td className="tabular-nums">{b.attached}</td>
                <td className="tabular-nums">{b.snat}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : (
        <p className="text-zinc-500">No address of this network is in use.</p>
      )}
    </section>
  );
}

/** Per-tenant permission to use public (non-RFC 1918) ranges in VPCs; off by default. */
function TenantPolicyForm({ changeReason }: { changeReason: string | null }) {
  const trpc = useTRPC();
  const toast = useToast();
  const [slug, setSlug] = useState("");
  const dslug = useDebounced(slug.trim());
  const policy = useQuery({ ...trpc.networksAdmin.tenantPolicy.queryOptions({ tenantSlug: dslug }), enabled: dslug.length > 0, retry: false });
  const qc = useQueryClient();
  const set = useMutation(
    trpc.networksAdmin.setTenantPolicy.mutationOptions({
      onSuccess: async (r) => {
        toast("success", `Tenant ${r.tenantSlug} ${r.allowPublicCidrs ? "may now" : "may no longer"} use public ranges in its VPCs.`);
        await qc.invalidateQueries(trpc.networksAdmin.pathFilter());
      },
      onError: (e) => toast("error", errorInfo(e).message),
    }),
  );
  return (
    <section aria-label="Public ranges" className="rounded-lg border border-zinc-200 p-4 dark:border-zinc-800">
      <h2 className="mb-1 text-lg font-semibold">Public ranges in tenant VPCs</h2>
      <p className="mb-3 text-sm text-zinc-600 dark:text-zinc-400">VPCs use private (RFC 1918) ranges unless an operator allows a tenant to use public ones.</p>
      <div className="flex flex-wrap items-end gap-3">
        <Field label="Tenant (slug)" error={policy.error ? errorInfo(policy.error).message : undefined}>
          {(p) => <input {...p} value={slug} onChange={(e) => setSlug(e.target.value)} placeholder="acme" />}
        </Field>
        {policy.data ? (
          <Button
            disabledReason={changeReason}
            busy={set.isPending}
            onClick={() => set.mutate({ tenantSlug: policy.data.tenantSlug, allowPublicCidrs: !policy.data.allowPublicCidrs })}
          >
            {policy.data.allowPublicCidrs ? "Stop allowing public ranges" : "Allow public ranges"}
          </Button>
        ) : null}
      </div>
    </section>
  );
}
