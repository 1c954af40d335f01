"use client";
// Tenant VPCs: server-side list with filter and cursor pages, create in a dialog (CIDR errors on the field), delete
// after confirmation. Members create; deleting needs a tenant admin and an empty VPC (the button says why not).
import { zodResolver } from "@hookform/resolvers/zod";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import type { ColumnDef } from "@tanstack/react-table";
import Link from "next/link";
import { useState } from "react";
import { useForm } from "react-hook-form";
import type { z } from "zod";
import { errorInfo, useTRPC } from "@/components/trpc";
import { Button } from "@/components/ui/button";
import { DataTable } from "@/components/ui/data-table";
import { ConfirmDialog, Dialog } from "@/components/ui/dialog";
import { Field, FormError } from "@/components/ui/form";
import { EmptyState, PageHeader } from "@/components/ui/page";
import { useToast } from "@/components/ui/toast";
import { useCursorPages, useDebounced } from "@/components/ui/use-cursor-pages";
import { vpcCreateSchema } from "@/db/validation/network";
import { placeServerErrors, SearchBox } from "./shared";

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

/** Mirrors the router's vpcDeleteBlocker (the server enforces the same rule). */
export function vpcDeleteReason(v: { name: string; subnetCount: number; portCount: number }, role: Role): string | null {
  if (role !== "tenant-admin") return "Only tenant admins can delete a VPC.";
  if (v.portCount > 0) return `VPC ${v.name} still has ${v.portCount} port(s); delete them first.`;
  if (v.subnetCount > 0) return `VPC ${v.name} still has ${v.subnetCount} subnet(s); delete them first.`;
  return null;
}

export function VpcsPage({ tenant, role }: { tenant: string; role: Role }) {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const toast = useToast();
  const [q, setQ] = useState("");
  const dq = useDebounced(q);
  const pages = useCursorPages(dq);
  const list = useQuery({ ...trpc.vpcs.list.queryOptions({ tenant, q: dq || undefined, cursor: pages.cursor }), placeholderData: (p) => p });
  const [creating, setCreating] = useState(false);
  const [deleting, setDeleting] = useState<VpcRow | null>(null);
  const del = useMutation(
    trpc.vpcs.delete.mutationOptions({
      onSuccess: async () => {
        toast("success", `VPC ${deleting?.name} deleted.`);
        setDeleting(null);
        await qc.invalidateQueries(trpc.vpcs.pathFilter());
      },
      onError: (e) => toast("error", errorInfo(e).message),
    }),
  );

  const columns: ColumnDef<VpcRow, unknown>[] = [
    {
      id: "name",
      header: "Name",
      cell: ({ row }) => (
        <Link className="font-medium text-sky-700 hover:underline dark:text-sky-400" href={`/t/${tenant}/networks/${row.original.id}`}>
          {row.original.name}
        </Link>
      ),
    },
    { id: "cidr", header: "IPv4 range", cell: ({ row }) => <code className="text-xs">{row.original.cidr}</code> },
    { id: "ipv6", header: "IPv6 range", cell: ({ row }) => (row.original.ipv6Cidr ? <code className="text-xs">{row.original.ipv6Cidr}</code> : <span className="text-zinc-400">—</span>) },
    { id: "vni", header: "VNI", cell: ({ row }) => <span className="tabular-nums">{row.original.vni}</span> },
    { id: "subnets", header: "Subnets", cell: ({ row }) => <span className="tabular-nums">{row.original.subnetCount}</span> },
    { id: "ports", header: "Ports", cell: ({ row }) => <span className="tabular-nums">{row.original.portCount}</span> },
    {
      id: "actions",
      header: () => <span className="sr-only">Actions</span>,
      cell: ({ row }) => (
        <div className="flex justify-end">
          <Button size="sm" variant="danger" aria-label={`Delete VPC ${row.original.name}`} disabledReason={vpcDeleteReason(row.original, role)} onClick={() => setDeleting(row.original)}>
            Delete
          </Button>
        </div>
      ),
    },
  ];

  return (
    <div>
      <PageHeader
        title="Networks"
        description="A VPC is your private, isolated network (its own range and VNI); subnets live inside it."
        actions={
          <Button variant="primary" onClick={() => setCreating(true)}>
            Create VPC
          </Button>
        }
      />
      <div className="mb-3">
        <SearchBox value={q} onChange={setQ} label="Filter VPCs" placeholder="Filter by name or range" />
      </div>
      <DataTable<VpcRow, string>
        label="VPCs"
        columns={columns}
        rows={list.data?.items ?? []}
        loading={list.isFetching}
        error={list.error ? errorInfo(list.error).message : null}
        empty={dq ? <EmptyState title="No VPC matches the filter" body={`Nothing matches “${dq}”.`} /> : <EmptyState title="No VPCs yet" body="Create a VPC to give your servers a private network." />}
        page={{ hasPrev: pages.hasPrev, hasNext: !!list.data?.nextCursor, onPrev: pages.prev, onNext: () => pages.next(list.data?.nextCursor), summary: `Page ${pages.pageIndex + 1}` }}
      />
      {creating ? <VpcFormDialog tenant={tenant} onClose={() => setCreating(false)} /> : null}
      <ConfirmDialog
        open={!!deleting}
        title={`Delete VPC ${deleting?.name ?? ""}?`}
        body={<p>The VPC, its VNI and its security groups are removed for good. This cannot be undone.</p>}
        confirmLabel="Delete VPC"
        busy={del.isPending}
        onConfirm={() => deleting && del.mutate({ tenant, id: deleting.id })}
        onClose={() => setDeleting(null)}
      />
    </div>
  );
}

type VpcForm = z.input<typeof vpcCreateSchema>;

function VpcFormDialog({ tenant, onClose }: { tenant: string; onClose: () => void }) {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const toast = useToast();
  const [submitError, setSubmitError] = useState<string | null>(null);
  const form = useForm<VpcForm>({ resolver: zodResolver(vpcCreateSchema) as never, defaultValues: { name: "", cidr: "10.0.0.0/16", ipv6Cidr: "", description: "" } });
  const create = useMutation(
    trpc.vpcs.create.mutationOptions({
      onSuccess: async (r) => {
        toast("success", `VPC ${r.name} created (VNI ${r.vni}).`);
        await qc.invalidateQueries(trpc.vpcs.pathFilter());
        onClose();
      },
      onError: (e) => setSubmitError(placeServerErrors(form, e, ["name", "cidr", "ipv6Cidr", "description"])),
    }),
  );
  const close = () => {
    if (form.formState.isDirty && !create.isPending && !window.confirm("Discard unsaved changes?")) return;
    onClose();
  };
  const submit = form.handleSubmit((v) => {
    setSubmitError(null);
    create.mutate({ tenant, name: v.name, cidr: v.cidr, description: v.description, ipv6Cidr: v.ipv6Cidr || null });
  });
  const err = form.formState.errors;
  return (
    <Dialog open onClose={close} title="Create VPC">
      <form onSubmit={submit} noValidate className="flex flex-col gap-4">
        <FormError message={submitError} />
        <Field label="Name" hint="Lowercase letters, digits and dashes." error={err.name}>
          {(p) => <input {...p} autoFocus {...form.register("name")} />}
        </Field>
        <Field label="IPv4 range" hint="A private range between /16 and /28, e.g. 10.0.0.0/16." error={err.cidr}>
          {(p) => <input {...p} {...form.register("cidr")} />}
        </Field>
        <Field label="IPv6 range (optional)" hint="A unique local range, /48 to /64, e.g. fd12:3456:789a::/48." error={err.ipv6Cidr}>
          {(p) => <input {...p} {...form.register("ipv6Cidr")} />}
        </Field>
        <Field label="Description" error={err.description}>
          {(p) => <textarea {...p} rows={2} {...form.register("description")} />}
        </Field>
        <div className="flex justify-end gap-2">
          <Button onClick={close}>Cancel</Button>
          <Button type="submit" variant="primary" busy={create.isPending}>
            Create VPC
          </Button>
        </div>
      </form>
    </Dialog>
  );
}
