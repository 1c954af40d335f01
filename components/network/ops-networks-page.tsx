"use client";
// Operator networking: usage at a glance (VNIs, VLANs, addresses), every tenant's VPCs and subnets, and provider
// (external) networks for public addresses with create/delete for operator admins. Floating IPs are not built.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import type { ColumnDef } from "@tanstack/react-table";
import { useState } from "react";
import { useForm } from "react-hook-form";
import { errorInfo, useTRPC } from "@/components/trpc";
import { Button } from "@/components/ui/button";
import { DataTable } from "@/components/ui/data-table";
import { ConfirmDialog, Dialog } from "@/components/ui/dialog";
import { Field, FormError } from "@/components/ui/form";
import { EmptyState, PageHeader } from "@/components/ui/page";
import { useToast } from "@/components/ui/toast";
import { useCursorPages, useDebounced } from "@/components/ui/use-cursor-pages";
import { operatorCan, reasonOf } from "@/domain/roles";
import { placeServerErrors, SearchBox } from "./shared";

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
}

export function OpsNetworksPage() {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const toast = useToast();
  const me = useQuery(trpc.session.me.queryOptions());
  const changeReason = me.data ? reasonOf(operatorCan.change(me.data.platformRole)) : "Loading your permissions…";
  const overview = useQuery(trpc.networksAdmin.overview.queryOptions());
  const [q, setQ] = useState("");
  const dq = useDebounced(q);
  const vpcPages = useCursorPages(dq);
  const subnetPages = useCursorPages(dq);
  const vpcs = useQuery({ ...trpc.networksAdmin.vpcs.queryOptions({ q: dq || undefined, cursor: vpcPages.cursor }), placeholderData: (p) => p });
  const subnets = useQuery({ ...trpc.networksAdmin.subnets.queryOptions({ q: dq || undefined, cursor: subnetPages.cursor }), placeholderData: (p) => p });
  const providers = useQuery(trpc.networksAdmin.providerNetworks.queryOptions({ limit: 200 }));
  const [creating, setCreating] = useState(false);
  const [deleting, setDeleting] = useState<ProviderRow | null>(null);
  const del = useMutation(
    trpc.networksAdmin.deleteProviderNetwork.mutationOptions({
      onSuccess: async () => {
        toast("success", `Provider network ${deleting?.name} deleted.`);
        setDeleting(null);
        await qc.invalidateQueries(trpc.networksAdmin.pathFilter());
      },
      onError: (e) => toast("error", errorInfo(e).message),
    }),
  );

  const vpcCols: ColumnDef<VpcRow, unknown>[] = [
    { id: "vni", header: "VNI", cell: ({ row }) => <span className="tabular-nums">{row.original.vni}</span> },
    { id: "tenant", header: "Tenant", cell: ({ row }) => row.original.tenantSlug },
    { id: "name", header: "VPC", cell: ({ row }) => <span className="font-medium">{row.original.name}</span> },
    { id: "cidr", header: "Range", cell: ({ row }) => <code className="text-xs">{row.original.cidr}</code> },
    { id: "subnets", header: "Subnets", cell: ({ row }) => <span className="tabular-nums">{row.original.subnetCount}</span> },
  ];
  const subnetCols: ColumnDef<SubnetRow, unknown>[] = [
    { id: "tenant", header: "Tenant", cell: ({ row }) => row.original.tenantSlug },
    { id: "vpc", header: "VPC", cell: ({ row }) => row.original.vpcName },
    { id: "name", header: "Subnet", cell: ({ row }) => <span className="font-medium">{row.original.name}</span> },
    { id: "cidr", header: "Range", cell: ({ row }) => <code className="text-xs">{row.original.cidr}</code> },
    { id: "segment", header: "Segment", cell: ({ row }) => (row.original.vlanId ? `VLAN ${row.original.vlanId}` : `VNI ${row.original.vni}`) },
    { id: "used", header: "Addresses used", cell: ({ row }) => <span className="tabular-nums">{row.original.used}</span> },
  ];
  const providerCols: ColumnDef<ProviderRow, unknown>[] = [
    { id: "name", header: "Name", cell: ({ row }) => <span className="font-medium">{row.original.name}</span> },
    { id: "cidr", header: "Range", cell: ({ row }) => <code className="text-xs">{row.original.cidr}</code> },
    { id: "vlan", header: "VLAN", cell: ({ row }) => <span className="tabular-nums">{row.original.vlanId}</span> },
    { id: "description", header: "Description", cell: ({ row }) => row.original.description },
    {
      id: "actions",
      header: () => <span className="sr-only">Actions</span>,
      cell: ({ row }) => (
        <div className="flex justify-end">
          <Button size="sm" variant="danger" aria-label={`Delete provider network ${row.original.name}`} disabledReason={changeReason} onClick={() => setDeleting(row.original)}>
            Delete
          </Button>
        </div>
      ),
    },
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
      <SearchBox value={q} onChange={setQ} label="Filter networks" placeholder="Filter by tenant, name, range or VNI" />
      <section aria-label="VPCs">
        <h2 className="mb-2 text-lg font-semibold">VPCs</h2>
        <DataTable<VpcRow, string>
          label="All VPCs"
          columns={vpcCols}
          rows={vpcs.data?.items ?? []}
          loading={vpcs.isFetching}
          error={vpcs.error ? errorInfo(vpcs.error).message : null}
          empty={<EmptyState title="No VPCs" body="Tenants have not created any VPCs yet." />}
          page={{ hasPrev: vpcPages.hasPrev, hasNext: !!vpcs.data?.nextCursor, onPrev: vpcPages.prev, onNext: () => vpcPages.next(vpcs.data?.nextCursor) }}
        />
      </section>
      <section aria-label="Subnets">
        <h2 className="mb-2 text-lg font-semibold">Subnets</h2>
        <DataTable<SubnetRow, string>
          label="All subnets"
          columns={subnetCols}
          rows={subnets.data?.items ?? []}
          loading={subnets.isFetching}
          error={subnets.error ? errorInfo(subnets.error).message : null}
          empty={<EmptyState title="No subnets" body="Tenants have not created any subnets yet." />}
          page={{ hasPrev: subnetPages.hasPrev, hasNext: !!subnets.data?.nextCursor, onPrev: subnetPages.prev, onNext: () => subnetPages.next(subnets.data?.nextCursor) }}
        />
      </section>
      <section aria-label="Provider networks">
        <div className="mb-2 flex items-center justify-between">
          <h2 className="text-lg font-semibold">Provider networks</h2>
          <Button variant="primary" disabledReason={changeReason} onClick={() => setCreating(true)}>
            Create provider network
          </Button>
        </div>
        <DataTable<ProviderRow, string>
          label="Provider networks"
          columns={providerCols}
          rows={providers.data?.items ?? []}
          loading={providers.isFetching}
          error={providers.error ? errorInfo(providers.error).message : null}
          empty={<EmptyState title="No provider networks" body="Add the external ranges (and their VLANs) your uplinks carry." />}
        />
        <div role="note" className="mt-3 rounded-md border border-amber-300 bg-amber-50 px-4 py-2 text-sm text-amber-900 dark:border-amber-800 dark:bg-amber-950 dark:text-amber-100">
          Floating IPs are not built yet: provider networks are recorded here, but no public address can be attached to a server so far.
        </div>
      </section>
      <TenantPolicyForm changeReason={changeReason} />
      {creating ? <ProviderFormDialog onClose={() => setCreating(false)} /> : null}
      <ConfirmDialog
        open={!!deleting}
        title={`Delete provider network ${deleting?.name ?? ""}?`}
        body={<p>The record of {deleting?.cidr} on VLAN {deleting?.vlanId} is removed. This cannot be undone.</p>}
        confirmLabel="Delete provider network"
        busy={del.isPending}
        onConfirm={() => deleting && del.mutate({ id: deleting.id })}
        onClose={() => setDeleting(null)}
      />
    </div>
  );
}

interface ProviderForm {
  name: string;
  cidr: string;
  vlanId: string;
  description: string;
}

function ProviderFormDialog({ onClose }: { onClose: () => void }) {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const toast = useToast();
  const [submitError, setSubmitError] = useState<string | null>(null);
  const form = useForm<ProviderForm>({ defaultValues: { name: "", cidr: "", vlanId: "", description: "" } });
  const create = useMutation(
    trpc.networksAdmin.createProviderNetwork.mutationOptions({
      onSuccess: async (r) => {
        toast("success", `Provider network ${r.name} created.`);
        await qc.invalidateQueries(trpc.networksAdmin.pathFilter());
        onClose();
      },
      onError: (e) => setSubmitError(placeServerErrors(form, e, ["name", "cidr", "vlanId", "description"])),
    }),
  );
  const close = () => {
    if (form.formState.isDirty && !create.isPending && !window.confirm("Discard unsaved changes?")) return;
    onClose();
  };
  const submit = form.handleSubmit((v) => {
    setSubmitError(null);
    create.mutate({ name: v.name, cidr: v.cidr, vlanId: Number(v.vlanId), description: v.description });
  });
  const err = form.formState.errors;
  return (
    <Dialog open onClose={close} title="Create provider network">
      <form onSubmit={submit} noValidate className="flex flex-col gap-4">
        <FormError message={submitError} />
        <Field label="Name" error={err.name}>
          {(p) => <input {...p} autoFocus {...form.register("name")} />}
        </Field>
        <Field label="Range" hint="The public CIDR this network carries, e.g. 198.51.100.0/24." error={err.cidr}>
          {(p) => <input {...p} {...form.register("cidr")} />}
        </Field>
        <Field label="VLAN id" hint="1–4094, unique across provider networks." error={err.vlanId}>
          {(p) => <input {...p} inputMode="numeric" {...form.register("vlanId")} />}
        </Field>
        <Field label="Description" error={err.description}>
          {(p) => <input {...p} {...form.register("description")} />}
        </Field>
        <div className="flex justify-end gap-2">
          <Button onClick={close}>Cancel</Button>
          <Button type="submit" variant="primary" busy={create.isPending}>
            Create provider network
          </Button>
        </div>
      </form>
    </Dialog>
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
