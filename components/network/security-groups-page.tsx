"use client";
// Tenant security groups: list (filter, cursor pages) with their VPC, rule and port counts; create in a dialog
// (pick the VPC). Rules are edited on the group's own page.
import { zodResolver } from "@hookform/resolvers/zod";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import type { ColumnDef } from "@tanstack/react-table";
import Link from "next/link";
import { useState } from "react";
import { useForm } from "react-hook-form";
import type { z } from "zod";
import { errorInfo, useTRPC } from "@/components/trpc";
import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { DataTable } from "@/components/ui/data-table";
import { Dialog } from "@/components/ui/dialog";
import { Field, FormError } from "@/components/ui/form";
import { EmptyState, PageHeader } from "@/components/ui/page";
import { useToast } from "@/components/ui/toast";
import { useCursorPages, useDebounced } from "@/components/ui/use-cursor-pages";
import { securityGroupCreateSchema } from "@/db/validation/network";
import { placeServerErrors, SearchBox } from "./shared";

interface GroupRow {
  id: string;
  name: string;
  vpcName: string;
  description: string;
  isDefault: boolean;
  ruleCount: number;
  portCount: number;
}

export function SecurityGroupsPage({ tenant }: { tenant: string }) {
  const trpc = useTRPC();
  const [q, setQ] = useState("");
  const dq = useDebounced(q);
  const pages = useCursorPages(dq);
  const list = useQuery({ ...trpc.securityGroups.list.queryOptions({ tenant, q: dq || undefined, cursor: pages.cursor }), placeholderData: (p) => p });
  const vpcs = useQuery(trpc.vpcs.list.queryOptions({ tenant, limit: 200 }));
  const [creating, setCreating] = useState(false);
  const noVpc = vpcs.data && vpcs.data.items.length === 0 ? "Create a VPC first: security groups belong to a VPC." : null;

  const columns: ColumnDef<GroupRow, unknown>[] = [
    {
      id: "name",
      header: "Name",
      cell: ({ row }) => (
        <span className="flex items-center gap-2">
          <Link className="font-medium text-sky-700 hover:underline dark:text-sky-400" href={`/t/${tenant}/security-groups/${row.original.id}`}>
            {row.original.name}
          </Link>
          {row.original.isDefault ? <Badge tone="sky">default</Badge> : null}
        </span>
      ),
    },
    { id: "vpc", header: "VPC", cell: ({ row }) => row.original.vpcName },
    { id: "rules", header: "Rules", cell: ({ row }) => <span className="tabular-nums">{row.original.ruleCount}</span> },
    { id: "ports", header: "Ports", cell: ({ row }) => <span className="tabular-nums">{row.original.portCount}</span> },
    { id: "description", header: "Description", cell: ({ row }) => <span className="text-zinc-600 dark:text-zinc-400">{row.original.description}</span> },
  ];

  return (
    <div>
      <PageHeader
        title="Security groups"
        description="Stateful allow-lists the DPU enforces on every port in the group: new connections pass only when a rule allows them."
        actions={
          <Button variant="primary" disabledReason={noVpc} onClick={() => setCreating(true)}>
            Create security group
          </Button>
        }
      />
      <div className="mb-3">
        <SearchBox value={q} onChange={setQ} label="Filter security groups" placeholder="Filter by name or description" />
      </div>
      <DataTable<GroupRow, string>
        label="Security groups"
        columns={columns}
        rows={list.data?.items ?? []}
        loading={list.isFetching}
        error={list.error ? errorInfo(list.error).message : null}
        empty={dq ? <EmptyState title="No group matches the filter" body={`Nothing matches “${dq}”.`} /> : <EmptyState title="No security groups yet" body="Each VPC gets a default group; create more to open specific ports." />}
        page={{ hasPrev: pages.hasPrev, hasNext: !!list.data?.nextCursor, onPrev: pages.prev, onNext: () => pages.next(list.data?.nextCursor), summary: `Page ${pages.pageIndex + 1}` }}
      />
      {creating && vpcs.data ? <GroupFormDialog tenant={tenant} vpcs={vpcs.data.items} onClose={() => setCreating(false)} /> : null}
    </div>
  );
}

type GroupForm = z.input<typeof securityGroupCreateSchema>;

function GroupFormDialog({ tenant, vpcs, onClose }: { tenant: string; vpcs: { id: string; name: string }[]; onClose: () => void }) {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const toast = useToast();
  const [submitError, setSubmitError] = useState<string | null>(null);
  const form = useForm<GroupForm>({ resolver: zodResolver(securityGroupCreateSchema) as never, defaultValues: { vpcId: vpcs[0]?.id ?? "", name: "", description: "" } });
  const create = useMutation(
    trpc.securityGroups.create.mutationOptions({
      onSuccess: async (r) => {
        toast("success", `Security group ${r.name} created.`);
        await qc.invalidateQueries(trpc.securityGroups.pathFilter());
        onClose();
      },
      onError: (e) => setSubmitError(placeServerErrors(form, e, ["vpcId", "name", "description"])),
    }),
  );
  const close = () => {
    if (form.formState.isDirty && !create.isPending && !window.confirm("Discard unsaved changes?")) return;
    onClose();
  };
  const submit = form.handleSubmit((v) => {
    setSubmitError(null);
    create.mutate({ tenant, vpcId: v.vpcId, name: v.name, description: v.description });
  });
  const err = form.formState.errors;
  return (
    <Dialog open onClose={close} title="Create security group">
      <form onSubmit={submit} noValidate className="flex flex-col gap-4">
        <FormError message={submitError} />
        <Field label="VPC" error={err.vpcId}>
          {(p) => (
            <select {...p} {...form.register("vpcId")}>
              {vpcs.map((v) => (
                <option key={v.id} value={v.id}>
                  {v.name}
                </option>
              ))}
            </select>
          )}
        </Field>
        <Field label="Name" hint="Lowercase letters, digits and dashes." error={err.name}>
          {(p) => <input {...p} autoFocus {...form.register("name")} />}
        </Field>
        <Field label="Description" error={err.description}>
          {(p) => <textarea {...p} rows={2} {...form.register("description")} />}
        </Field>
        <div className="flex justify-end gap-2">
          <Button onClick={close}>Cancel</Button>
          <Button type="submit" variant="primary" busy={create.isPending}>
            Create security group
          </Button>
        </div>
      </form>
    </Dialog>
  );
}
