"use client";
// One VPC: its ranges, VNI and default group; its subnets with free/used address counts (create in a dialog with
// gateway/reserved-range/DNS/VLAN fields and field errors; delete after confirmation, refused while ports use it);
// and its ports (vNICs) with address, MAC and rules version.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import type { ColumnDef } from "@tanstack/react-table";
import Link from "next/link";
import { useState } from "react";
import { useForm } from "react-hook-form";
import { errorInfo, useTRPC } from "@/components/trpc";
import { Button } from "@/components/ui/button";
import { DataTable } from "@/components/ui/data-table";
import { ConfirmDialog, Dialog } from "@/components/ui/dialog";
import { Field, FormError } from "@/components/ui/form";
import { EmptyState, PageHeader } from "@/components/ui/page";
import { useToast } from "@/components/ui/toast";
import { useCursorPages } from "@/components/ui/use-cursor-pages";
import { placeServerErrors } from "./shared";

interface SubnetRow {
  id: string;
  name: string;
  cidr: string;
  gateway: string;
  vlanId: number | null;
  vni: number;
  capacity: number;
  used: number;
  free: number;
  dnsServers: string[];
  reservedRanges: { start: string; end: string }[];
  deleteBlockedReason: string | null;
}

export function VpcDetail({ tenant, vpcId }: { tenant: string; vpcId: string }) {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const toast = useToast();
  const vpc = useQuery(trpc.vpcs.get.queryOptions({ tenant, id: vpcId }));
  const pages = useCursorPages(vpcId);
  const subnets = useQuery({ ...trpc.subnets.list.queryOptions({ tenant, vpcId, cursor: pages.cursor }), placeholderData: (p) => p });
  const ports = useQuery(trpc.ports.list.queryOptions({ tenant, vpcId, limit: 50 }));
  const [creating, setCreating] = useState(false);
  const [deleting, setDeleting] = useState<SubnetRow | null>(null);
  const del = useMutation(
    trpc.subnets.delete.mutationOptions({
      onSuccess: async () => {
        toast("success", `Subnet ${deleting?.name} deleted.`);
        setDeleting(null);
        await qc.invalidateQueries(trpc.subnets.pathFilter());
        await qc.invalidateQueries(trpc.vpcs.pathFilter());
      },
      onError: (e) => toast("error", errorInfo(e).message),
    }),
  );

  if (vpc.error) return <FormError message={errorInfo(vpc.error).message} />;
  if (!vpc.data) return <p className="text-sm text-zinc-500">Loading…</p>;
  const v = vpc.data;

  const columns: ColumnDef<SubnetRow, unknown>[] = [
    { id: "name", header: "Name", cell: ({ row }) => <span className="font-medium">{row.original.name}</span> },
    { id: "cidr", header: "Range", cell: ({ row }) => <code className="text-xs">{row.original.cidr}</code> },
    { id: "gateway", header: "Gateway", cell: ({ row }) => <code className="text-xs">{row.original.gateway}</code> },
    { id: "segment", header: "Segment", cell: ({ row }) => (row.original.vlanId ? `VLAN ${row.original.vlanId}` : `VNI ${row.original.vni}`) },
    {
      id: "addresses",
      header: "Addresses",
      cell: ({ row }) => (
        <span className="tabular-nums">
          {row.original.used} used · {row.original.free} free
        </span>
      ),
    },
    { id: "dns", header: "DNS", cell: ({ row }) => <span className="text-xs">{row.original.dnsServers.join(", ") || "—"}</span> },
    {
      id: "actions",
      header: () => <span className="sr-only">Actions</span>,
      cell: ({ row }) => (
        <div className="flex justify-end">
          <Button size="sm" variant="danger" aria-label={`Delete subnet ${row.original.name}`} disabledReason={row.original.deleteBlockedReason} onClick={() => setDeleting(row.original)}>
            Delete
          </Button>
        </div>
      ),
    },
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
          actions={
            <Button variant="primary" onClick={() => setCreating(true)}>
              Create subnet
            </Button>
          }
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
        <DataTable<SubnetRow, string>
          label="Subnets"
          columns={columns}
          rows={subnets.data?.items ?? []}
          loading={subnets.isFetching}
          error={subnets.error ? errorInfo(subnets.error).message : null}
          empty={<EmptyState title="No subnets yet" body={`Create a subnet inside ${v.cidr} to give ports addresses.`} />}
          page={{ hasPrev: pages.hasPrev, hasNext: !!subnets.data?.nextCursor, onPrev: pages.prev, onNext: () => pages.next(subnets.data?.nextCursor) }}
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
      {creating ? <SubnetFormDialog tenant={tenant} vpcId={vpcId} vpcCidr={v.cidr} onClose={() => setCreating(false)} /> : null}
      <ConfirmDialog
        open={!!deleting}
        title={`Delete subnet ${deleting?.name ?? ""}?`}
        body={<p>The subnet {deleting?.cidr} is removed for good. This cannot be undone.</p>}
        confirmLabel="Delete subnet"
        busy={del.isPending}
        onConfirm={() => deleting && del.mutate({ tenant, id: deleting.id })}
        onClose={() => setDeleting(null)}
      />
    </div>
  );
}

/** Form values are shaped for people (text lines) and converted to the router's input on submit. */
interface SubnetForm {
  name: string;
  cidr: string;
  gateway: string;
  reservedRanges: string;
  dnsServers: string;
  vlanId: string;
  description: string;
}

function SubnetFormDialog({ tenant, vpcId, vpcCidr, onClose }: { tenant: string; vpcId: string; vpcCidr: string; onClose: () => void }) {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const toast = useToast();
  const [submitError, setSubmitError] = useState<string | null>(null);
  const form = useForm<SubnetForm>({ defaultValues: { name: "", cidr: "", gateway: "", reservedRanges: "", dnsServers: "", vlanId: "", description: "" } });
  const create = useMutation(
    trpc.subnets.create.mutationOptions({
      onSuccess: async (r) => {
        toast("success", `Subnet ${r.name} created (gateway ${r.gateway}).`);
        await qc.invalidateQueries(trpc.subnets.pathFilter());
        await qc.invalidateQueries(trpc.vpcs.pathFilter());
        onClose();
      },
      onError: (e) => setSubmitError(placeServerErrors(form, e, ["name", "cidr", "gateway", "reservedRanges", "dnsServers", "vlanId", "description"])),
    }),
  );
  const close = () => {
    if (form.formState.isDirty && !create.isPending && !window.confirm("Discard unsaved changes?")) return;
    onClose();
  };
  const submit = form.handleSubmit((v) => {
    setSubmitError(null);
    const lines = v.reservedRanges.split(/[\n,]/).map((l) => l.trim()).filter(Boolean);
    const reservedRanges = lines.map((l) => {
      const [start, end] = l.split(/\s*[-–]\s*/);
      return { start: start ?? "", end: end ?? start ?? "" };
    });
    const vlan = v.vlanId.trim();
    if (vlan && !/^\d+$/.test(vlan)) {
      form.setError("vlanId", { message: "VLAN ids are 1–4094" });
      return;
    }
    create.mutate({
      tenant,
      vpcId,
      name: v.name,
      cidr: v.cidr,
      gateway: v.gateway || undefined,
      reservedRanges,
      dnsServers: v.dnsServers.split(/[\s,]+/).filter(Boolean),
      vlanId: vlan ? Number(vlan) : null,
      description: v.description,
    });
  });
  const err = form.formState.errors;
  return (
    <Dialog open onClose={close} title="Create subnet" wide>
      <form onSubmit={submit} noValidate className="grid grid-cols-1 gap-4 sm:grid-cols-2">
        <div className="sm:col-span-2">
          <FormError message={submitError} />
        </div>
        <Field label="Name" hint="Lowercase letters, digits and dashes." error={err.name}>
          {(p) => <input {...p} autoFocus {...form.register("name")} />}
        </Field>
        <Field label="Subnet range" hint={`Inside ${vpcCidr}, /16 to /29, e.g. 10.0.1.0/24.`} error={err.cidr}>
          {(p) => <input {...p} {...form.register("cidr")} />}
        </Field>
        <Field label="Gateway (optional)" hint="Defaults to the first usable address." error={err.gateway}>
          {(p) => <input {...p} {...form.register("gateway")} />}
        </Field>
        <Field label="VLAN id (optional)" hint="Without one, the subnet rides the VPC's VNI." error={err.vlanId}>
          {(p) => <input {...p} inputMode="numeric" {...form.register("vlanId")} />}
        </Field>
        <Field label="Reserved ranges (optional)" hint="One per line: 10.0.1.200-10.0.1.220. Never handed out." error={err.reservedRanges}>
          {(p) => <textarea {...p} rows={2} {...form.register("reservedRanges")} />}
        </Field>
        <Field label="DNS servers (optional)" hint="Up to 4 addresses, comma separated." error={err.dnsServers}>
          {(p) => <input {...p} {...form.register("dnsServers")} />}
        </Field>
        <div className="flex justify-end gap-2 sm:col-span-2">
          <Button onClick={close}>Cancel</Button>
          <Button type="submit" variant="primary" busy={create.isPending}>
            Create subnet
          </Button>
        </div>
      </form>
    </Dialog>
  );
}
