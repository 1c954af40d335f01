"use client";
// Operator console: tenants list (filter by name/slug and state, sort, cursor pages) and "Create tenant".
// Each row links to the tenant's detail page (members, quota, suspend/resume, delete).
import { zodResolver } from "@hookform/resolvers/zod";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import type { ColumnDef } from "@tanstack/react-table";
import Link from "next/link";
import { useRouter } from "next/navigation";
import { useState } from "react";
import { useForm } from "react-hook-form";
import { errorInfo, useTRPC } from "@/components/trpc";
import { Button } from "@/components/ui/button";
import { DataTable, type SortState } from "@/components/ui/data-table";
import { Dialog } from "@/components/ui/dialog";
import { Field, FormError } from "@/components/ui/form";
import { EmptyState, PageHeader } from "@/components/ui/page";
import { useToast } from "@/components/ui/toast";
import { useCursorPages, useDebounced } from "@/components/ui/use-cursor-pages";
import { type TenantCreate, tenantCreateSchema, tenantSortKeys } from "@/db/validation/tenancy";
import { operatorCan, reasonOf } from "@/domain/roles";
import { placeErrors } from "./one-time-secret";

type SortKey = (typeof tenantSortKeys)[number];
interface TenantRow {
  id: string;
  slug: string;
  name: string;
  state: "active" | "suspended";
  memberCount: number;
  createdAt: Date;
}

export function StateBadge({ state }: { state: "active" | "suspended" }) {
  return (
    <span
      className={`rounded-full px-2 py-0.5 text-xs ${state === "active" ? "bg-emerald-100 text-emerald-900 dark:bg-emerald-950 dark:text-emerald-200" : "bg-amber-100 text-amber-900 dark:bg-amber-950 dark:text-amber-200"}`}
    >
      {state === "active" ? "Active" : "Suspended"}
    </span>
  );
}

export function TenantsPage() {
  const trpc = useTRPC();
  const me = useQuery(trpc.session.me.queryOptions());
  const changeReason = me.data ? reasonOf(operatorCan.change(me.data.platformRole)) : "Loading your permissions…";
  const [q, setQ] = useState("");
  const dq = useDebounced(q);
  const [state, setState] = useState<"" | "active" | "suspended">("");
  const [sort, setSort] = useState<SortState<SortKey>>({ key: "name", dir: "asc" });
  const pages = useCursorPages(`${dq}|${state}|${sort.key}|${sort.dir}`);
  const list = useQuery({
    ...trpc.tenants.list.queryOptions({ q: dq || undefined, state: state || undefined, sort: sort.key, dir: sort.dir, cursor: pages.cursor }),
    placeholderData: (p) => p,
  });
  const [creating, setCreating] = useState(false);
  const columns: ColumnDef<TenantRow, unknown>[] = [
    {
      id: "name",
      header: "Name",
      cell: ({ row }) => (
        <Link href={`/ops/tenants/${row.original.id}`} className="font-medium text-sky-700 hover:underline dark:text-sky-400">
          {row.original.name}
        </Link>
      ),
    },
    { id: "slug", header: "Slug", cell: ({ row }) => <code className="text-xs">{row.original.slug}</code> },
    { id: "state", header: "State", cell: ({ row }) => <StateBadge state={row.original.state} /> },
    { id: "members", header: "Members", cell: ({ row }) => <span className="tabular-nums">{row.original.memberCount}</span> },
    { id: "createdAt", header: "Created", cell: ({ row }) => new Date(row.original.createdAt).toLocaleString() },
  ];
  return (
    <div>
      <PageHeader
        title="Tenants"
        description="Each tenant has its own members, VPCs, servers and quota."
        actions={
          <Button variant="primary" disabledReason={changeReason} onClick={() => setCreating(true)}>
            Create tenant
          </Button>
        }
      />
      <div className="mb-3 flex items-center gap-3">
        <input
          type="search"
          value={q}
          onChange={(e) => setQ(e.target.value)}
          placeholder="Filter by name or slug"
          aria-label="Filter tenants"
          className="w-72 rounded-md border border-zinc-300 bg-white px-3 py-1.5 text-sm dark:border-zinc-700 dark:bg-zinc-900"
        />
        <select
          aria-label="State"
          value={state}
          onChange={(e) => setState(e.target.value as typeof state)}
          className="rounded-md border border-zinc-300 bg-white px-2 py-1.5 text-sm dark:border-zinc-700 dark:bg-zinc-900"
        >
          <option value="">Any state</option>
          <option value="active">Active</option>
          <option value="suspended">Suspended</option>
        </select>
      </div>
      <DataTable<TenantRow, SortKey>
        label="Tenants"
        columns={columns}
        rows={list.data?.items ?? []}
        sort={sort}
        sortable={tenantSortKeys}
        onSort={setSort}
        loading={list.isFetching}
        error={list.error ? errorInfo(list.error).message : null}
        empty={<EmptyState title={dq || state ? "No tenant matches the filter" : "No tenants yet"} body={dq || state ? undefined : "Create the first tenant."} />}
        page={{ hasPrev: pages.hasPrev, hasNext: !!list.data?.nextCursor, onPrev: pages.prev, onNext: () => pages.next(list.data?.nextCursor), summary: `Page ${pages.pageIndex + 1}` }}
      />
      {creating ? <CreateTenantDialog onClose={() => setCreating(false)} /> : null}
    </div>
  );
}

function CreateTenantDialog({ onClose }: { onClose: () => void }) {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const toast = useToast();
  const router = useRouter();
  const [submitError, setSubmitError] = useState<string | null>(null);
  const form = useForm<TenantCreate>({ resolver: zodResolver(tenantCreateSchema), defaultValues: { slug: "", name: "" } });
  const create = useMutation(
    trpc.tenants.create.mutationOptions({
      onSuccess: async (t) => {
        toast("success", `Tenant ${t.name} created.`);
        await qc.invalidateQueries(trpc.tenants.pathFilter());
        onClose();
        router.push(`/ops/tenants/${t.id}`);
      },
      onError: (e) => setSubmitError(placeErrors(errorInfo(e), ["slug", "name"] as const, (f, m) => form.setError(f, { message: m }))),
    }),
  );
  const close = () => {
    if (form.formState.isDirty && !create.isPending && !window.confirm("Discard unsaved changes?")) return;
    onClose();
  };
  return (
    <Dialog open onClose={close} title="Create tenant">
      <form
        noValidate
        className="flex flex-col gap-4"
        onSubmit={form.handleSubmit((v) => {
          setSubmitError(null);
          create.mutate(v);
        })}
      >
        <FormError message={submitError} />
        <Field label="Name" error={form.formState.errors.name}>
          {(p) => <input {...p} autoFocus {...form.register("name")} />}
        </Field>
        <Field label="Slug" hint="In the portal's address (/t/<slug>): lowercase letters, digits and dashes. It can't be changed later." error={form.formState.errors.slug}>
          {(p) => <input {...p} {...form.register("slug")} />}
        </Field>
        <div className="flex justify-end gap-2">
          <Button onClick={close}>Cancel</Button>
          <Button type="submit" variant="primary" busy={create.isPending}>
            Create tenant
          </Button>
        </div>
      </form>
    </Dialog>
  );
}
