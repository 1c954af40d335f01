"use client";
// Operator storage: capacity (raw / used / provisioned thin) by disk pool and logical pool, storage nodes and disks
// with health, disk/logical pool create/edit/delete (the service's refusal — e.g. "still holds 3 volumes" — is
// shown as is), every tenant's volumes with filters and a detail view (targets, attachments), and the targets list.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import type { ColumnDef } from "@tanstack/react-table";
import type { inferRouterOutputs } from "@trpc/server";
import { useState } from "react";
import { errorInfo, useTRPC } from "@/components/trpc";
import { Button } from "@/components/ui/button";
import { DataTable } from "@/components/ui/data-table";
import { ConfirmDialog, Dialog } from "@/components/ui/dialog";
import { Field, FormError } from "@/components/ui/form";
import { EmptyState, PageHeader } from "@/components/ui/page";
import { useToast } from "@/components/ui/toast";
import { useCursorPages, useDebounced } from "@/components/ui/use-cursor-pages";
import { operatorCan, reasonOf } from "@/domain/roles";
import type { AppRouter } from "@/server/api/root";
import { formatBytes, inputCls, StateBadge } from "./shared";

// The storage service's shapes as the overview returns them.
type Overview = inferRouterOutputs<AppRouter>["storage"]["overview"];
type DiskPool = Overview["diskPools"][number];
type LogicalPool = Overview["logicalPools"][number];
type Redundancy = LogicalPool["redundancy"];

const redundancyText = (r: Redundancy) => (r.type === "replica" ? `${r.copies}× replica` : `EC ${r.data}+${r.parity}`);

function Stat({ label, value, hint }: { label: string; value: string; hint?: string }) {
  return (
    <div className="min-w-40 flex-1 rounded-lg border border-zinc-200 p-3 dark:border-zinc-800">
      <p className="text-xs text-zinc-500 uppercase">{label}</p>
      <p className="text-xl font-semibold tabular-nums">{value}</p>
      {hint ? <p className="text-xs text-zinc-500">{hint}</p> : null}
    </div>
  );
}

export function OpsStoragePage() {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const toast = useToast();
  const me = useQuery(trpc.session.me.queryOptions());
  const changeReason = me.data ? reasonOf(operatorCan.change(me.data.platformRole)) : "Loading your permissions…";
  const ov = useQuery(trpc.storage.overview.queryOptions());
  const [lpDialog, setLpDialog] = useState<LogicalPool | "new" | null>(null);
  const [dpDialog, setDpDialog] = useState(false);
  const [renaming, setRenaming] = useState<DiskPool | null>(null);
  const [deleting, setDeleting] = useState<{ kind: "disk" | "logical"; id: string; name: string } | null>(null);
  const refresh = () => qc.invalidateQueries(trpc.storage.pathFilter());
  const onDeleted = async () => {
    toast("success", `Pool ${deleting?.name} deleted.`);
    setDeleting(null);
    await refresh();
  };
  const onDeleteError = (e: unknown) => toast("error", errorInfo(e).message);
  const delLp = useMutation(trpc.storage.deleteLogicalPool.mutationOptions({ onSuccess: onDeleted, onError: onDeleteError }));
  const delDp = useMutation(trpc.storage.deleteDiskPool.mutationOptions({ onSuccess: onDeleted, onError: onDeleteError }));

  if (ov.error) return (<div><PageHeader title="Storage" /><FormError message={errorInfo(ov.error).message} /></div>);
  const d = ov.data;
  const dpName = (id: string) => d?.diskPools.find((p) => p.id === id)?.name ?? id;

  const lpColumns: ColumnDef<LogicalPool, unknown>[] = [
    { id: "name", header: "Name", cell: ({ row }) => <span className="font-medium">{row.original.name}</span> },
    { id: "diskPool", header: "Disk pool", cell: ({ row }) => dpName(row.original.diskPoolId) },
    { id: "redundancy", header: "Redundancy", cell: ({ row }) => redundancyText(row.original.redundancy) },
    { id: "thin", header: "Provisioning", cell: ({ row }) => (row.original.thinProvisioned ? `thin, ×${row.original.overcommitRatio}` : "thick") },
    { id: "usable", header: "Usable", cell: ({ row }) => formatBytes(row.original.usableBytes) },
    { id: "used", header: "Used", cell: ({ row }) => formatBytes(row.original.usedBytes) },
    { id: "provisioned", header: "Provisioned", cell: ({ row }) => `${formatBytes(row.original.provisionedBytes)} of ${formatBytes(row.original.provisionLimitBytes)}` },
    { id: "volumes", header: "Volumes", cell: ({ row }) => row.original.volumeCount },
    {
      id: "actions",
      header: () => <span className="sr-only">Actions</span>,
      cell: ({ row }) => (
        <div className="flex justify-end gap-2">
          <Button size="sm" aria-label={`Edit logical pool ${row.original.name}`} disabledReason={changeReason} onClick={() => setLpDialog(row.original)}>
            Edit
          </Button>
          <Button
            size="sm"
            variant="danger"
            aria-label={`Delete logical pool ${row.original.name}`}
            disabledReason={changeReason}
            onClick={() => setDeleting({ kind: "logical", id: row.original.id, name: row.original.name })}
          >
            Delete
          </Button>
        </div>
      ),
    },
  ];
  const dpColumns: ColumnDef<DiskPool, unknown>[] = [
    { id: "name", header: "Name", cell: ({ row }) => <span className="font-medium">{row.original.name}</span> },
    { id: "disks", header: "Disks", cell: ({ row }) => `${row.original.diskIds.length} on ${row.original.nodeIds.length} node(s)` },
    { id: "capacity", header: "Raw capacity", cell: ({ row }) => formatBytes(row.original.capacityBytes) },
    { id: "allocated", header: "Allocated", cell: ({ row }) => formatBytes(row.original.allocatedRawBytes) },
    { id: "free", header: "Free", cell: ({ row }) => formatBytes(row.original.freeRawBytes) },
    { id: "health", header: "Health", cell: ({ row }) => <StateBadge state={row.original.health} /> },
    {
      id: "actions",
      header: () => <span className="sr-only">Actions</span>,
      cell: ({ row }) => (
        <div className="flex justify-end gap-2">
          <Button size="sm" aria-label={`Rename disk pool ${row.original.name}`} disabledReason={changeReason} onClick={() => setRenaming(row.original)}>
            Rename
          </Button>
          <Button
            size="sm"
            variant="danger"
            aria-label={`Delete disk pool ${row.original.name}`}
            disabledReason={changeReason}
            onClick={() => setDeleting({ kind: "disk", id: row.original.id, name: row.original.name })}
          >
            Delete
          </Button>
        </div>
      ),
    },
  ];

  return (
    <div className="flex flex-col gap-8">
      <PageHeader
        title="Storage"
        description="The distributed storage behind every cloud disk: capacity, pools, storage nodes and disks, volumes and targets."
        actions={
          <>
            <Button disabledReason={changeReason} onClick={() => setDpDialog(true)}>
              Create disk pool
            </Button>
            <Button variant="primary" disabledReason={changeReason} onClick={() => setLpDialog("new")}>
              Create logical pool
            </Button>
          </>
        }
      />
      {d ? (
        <section aria-label="Capacity" className="flex flex-wrap gap-3">
          <Stat label="Raw capacity" value={formatBytes(d.totals.rawBytes)} hint={`${formatBytes(d.totals.allocatedRawBytes)} allocated`} />
          <Stat label="Usable (after redundancy)" value={formatBytes(d.totals.usableBytes)} />
          <Stat label="Used" value={formatBytes(d.totals.usedBytes)} />
          <Stat label="Provisioned (thin)" value={formatBytes(d.totals.provisionedBytes)} />
          <Stat label="Disks" value={String(d.disks.length)} hint={`${d.totals.unassignedDisks} unassigned, ${d.totals.unhealthyDisks} unhealthy`} />
        </section>
      ) : (
        <p className="text-sm text-zinc-500">Loading…</p>
      )}
      <section>
        <h2 className="mb-2 text-lg font-semibold">Logical pools</h2>
        <DataTable<LogicalPool, string> label="Logical pools" columns={lpColumns} rows={d?.logicalPools ?? []} loading={ov.isFetching} empty={<EmptyState title="No logical pools" body="Create one on a disk pool." />} />
      </section>
      <section>
        <h2 className="mb-2 text-lg font-semibold">Disk pools</h2>
        <DataTable<DiskPool, string> label="Disk pools" columns={dpColumns} rows={d?.diskPools ?? []} loading={ov.isFetching} empty={<EmptyState title="No disk pools" body="Group physical disks into a disk pool first." />} />
      </section>
      <section>
        <h2 className="mb-2 text-lg font-semibold">Storage nodes</h2>
        <table aria-label="Storage nodes" className="w-full text-left text-sm">
          <thead className="text-xs text-zinc-500 uppercase">
            <tr>
              <th className="py-1">Node</th>
              <th>Address</th>
              <th>Health</th>
              <th>Disks</th>
            </tr>
          </thead>
          <tbody>
            {d?.nodes.map((n) => (
              <tr key={n.id} className="border-t border-zinc-100 dark:border-zinc-800">
                <td className="py-1 font-medium">{n.name}</td>
                <td>{n.address}</td>
                <td>
                  <StateBadge state={n.health} />
                </td>
                <td>
                  <div className="flex flex-wrap gap-1">
                    {n.disks.map((disk) => (
                      <span key={disk.id} title={`${disk.name}: ${disk.media}, ${formatBytes(disk.sizeBytes)}, ${disk.health}${disk.diskPoolId ? `, pool ${dpName(disk.diskPoolId)}` : ", unassigned"}`}>
                        <StateBadge state={disk.health} />
                      </span>
                    ))}
                  </div>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
      <AllVolumes logicalPools={d?.logicalPools ?? []} />
      <Targets />
      {lpDialog ? <LogicalPoolDialog pool={lpDialog === "new" ? null : lpDialog} diskPools={d?.diskPools ?? []} onClose={() => setLpDialog(null)} /> : null}
      {renaming ? <RenameDiskPoolDialog pool={renaming} onClose={() => setRenaming(null)} /> : null}
      {dpDialog ? <DiskPoolDialog disks={(d?.disks ?? []).filter((x) => x.diskPoolId === null)} onClose={() => setDpDialog(false)} /> : null}
      <ConfirmDialog
        open={!!deleting}
        title={`Delete ${deleting?.kind === "disk" ? "disk" : "logical"} pool ${deleting?.name ?? ""}?`}
        body={<p>The storage service refuses while the pool is in use and says why.</p>}
        confirmLabel="Delete pool"
        busy={delLp.isPending || delDp.isPending}
        onConfirm={() => deleting && (deleting.kind === "disk" ? delDp.mutate({ id: deleting.id }) : delLp.mutate({ id: deleting.id }))}
        onClose={() => setDeleting(null)}
      />
    </div>
  );
}

function LogicalPoolDialog({ pool, diskPools, onClose }: { pool: LogicalPool | null; diskPools: DiskPool[]; onClose: () => void }) {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const toast = useToast();
  const [v, setV] = useState({
    name: pool?.name ?? "",
    diskPoolId: pool?.diskPoolId ?? diskPools[0]?.id ?? "",
    type: pool?.redundancy.type ?? "replica",
    copies: pool?.redundancy.type === "replica" ? pool.redundancy.copies : 3,
    data: pool?.redundancy.type === "ec" ? pool.redundancy.data : 4,
    parity: pool?.redundancy.type === "ec" ? pool.redundancy.parity : 2,
    thin: pool?.thinProvisioned ?? true,
    overcommit: pool?.overcommitRatio ?? 2,
  });
  const [errors, setErrors] = useState<Record<string, string[]>>({});
  const [banner, setBanner] = useState<string | null>(null);
  const onError = (e: unknown) => {
    const info = errorInfo(e);
    setErrors(info.fieldErrors);
    setBanner(info.message);
  };
  const onSuccess = async (p: { name: string }) => {
    toast("success", `Logical pool ${p.name} saved.`);
    await qc.invalidateQueries(trpc.storage.pathFilter());
    onClose();
  };
  const create = useMutation(trpc.storage.createLogicalPool.mutationOptions({ onSuccess, onError }));
  const update = useMutation(trpc.storage.updateLogicalPool.mutationOptions({ onSuccess, onError }));
  const err = (k: string) => errors[k]?.[0] ?? Object.entries(errors).find(([f]) => f.startsWith(`${k}.`))?.[1][0];
  const num = (s: string) => (s === "" ? Number.NaN : Number(s));
  return (
    <Dialog open onClose={onClose} title={pool ? `Edit logical pool ${pool.name}` : "Create logical pool"}>
      <form
        noValidate
        className="flex flex-col gap-3"
        onSubmit={(e) => {
          e.preventDefault();
          setErrors({});
          setBanner(null);
          if (pool) update.mutate({ id: pool.id, name: v.name, ...(pool.thinProvisioned ? { overcommitRatio: v.overcommit } : {}) });
          else
            create.mutate({
              name: v.name,
              diskPoolId: v.diskPoolId,
              redundancy: v.type === "replica" ? { type: "replica", copies: v.copies } : { type: "ec", data: v.data, parity: v.parity },
              thinProvisioned: v.thin,
              overcommitRatio: v.thin ? v.overcommit : undefined,
            });
        }}
      >
        <FormError message={banner} />
        <Field label="Name" error={err("name")}>
          {(p) => <input {...p} value={v.name} onChange={(e) => setV({ ...v, name: e.target.value })} />}
        </Field>
        {pool ? null : (
          <>
            <Field label="Disk pool" error={err("diskPoolId")}>
              {(p) => (
                <select {...p} value={v.diskPoolId} onChange={(e) => setV({ ...v, diskPoolId: e.target.value })}>
                  {diskPools.map((dp) => (
                    <option key={dp.id} value={dp.id}>
                      {dp.name}
                    </option>
                  ))}
                </select>
              )}
            </Field>
            <Field label="Redundancy" error={err("redundancy")}>
              {(p) => (
                <select {...p} value={v.type} onChange={(e) => setV({ ...v, type: e.target.value as "replica" | "ec" })}>
                  <option value="replica">Replicas (1–3 copies)</option>
                  <option value="ec">Erasure coding (k data + m parity)</option>
                </select>
              )}
            </Field>
            {v.type === "replica" ? (
              <Field label="Copies" error={err("redundancy.copies")}>
                {(p) => <input {...p} type="number" min={1} max={3} value={v.copies} onChange={(e) => setV({ ...v, copies: num(e.target.value) })} />}
              </Field>
            ) : (
              <div className="flex gap-3">
                <Field label="Data fragments (k)" error={err("redundancy.data")}>
                  {(p) => <input {...p} type="number" min={2} value={v.data} onChange={(e) => setV({ ...v, data: num(e.target.value) })} />}
                </Field>
                <Field label="Parity fragments (m)" error={err("redundancy.parity")}>
                  {(p) => <input {...p} type="number" min={1} value={v.parity} onChange={(e) => setV({ ...v, parity: num(e.target.value) })} />}
                </Field>
              </div>
            )}
            <label className="flex items-center gap-2 text-sm">
              <input type="checkbox" checked={v.thin} onChange={(e) => setV({ ...v, thin: e.target.checked })} /> Thin provisioned
            </label>
          </>
        )}
        {(pool ? pool.thinProvisioned : v.thin) ? (
          <Field label="Over-commit ratio" hint="How much more may be provisioned than is usable (thin pools)." error={err("overcommitRatio")}>
            {(p) => <input {...p} type="number" step="0.1" min={1} value={v.overcommit} onChange={(e) => setV({ ...v, overcommit: num(e.target.value) })} />}
          </Field>
        ) : null}
        <div className="flex justify-end gap-2">
          <Button onClick={onClose}>Cancel</Button>
          <Button type="submit" variant="primary" busy={create.isPending || update.isPending}>
            {pool ? "Save" : "Create logical pool"}
          </Button>
        </div>
      </form>
    </Dialog>
  );
}

function DiskPoolDialog({ disks, onClose }: { disks: { id: string; name: string; nodeId: string; sizeBytes: number; media: string }[]; onClose: () => void }) {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const toast = useToast();
  const [name, setName] = useState("");
  const [picked, setPicked] = useState<Set<string>>(new Set());
  const [errors, setErrors] = useState<Record<string, string[]>>({});
  const [banner, setBanner] = useState<string | null>(null);
  const create = useMutation(
    trpc.storage.createDiskPool.mutationOptions({
      onSuccess: async (p) => {
        toast("success", `Disk pool ${p.name} created.`);
        await qc.invalidateQueries(trpc.storage.pathFilter());
        onClose();
      },
      onError: (e) => {
        const info = errorInfo(e);
        setErrors(info.fieldErrors);
        setBanner(info.message);
      },
    }),
  );
  return (
    <Dialog open onClose={onClose} title="Create disk pool" wide>
      <form
        noValidate
        className="flex flex-col gap-3"
        onSubmit={(e) => {
          e.preventDefault();
          setErrors({});
          setBanner(null);
          create.mutate({ name, diskIds: [...picked] });
        }}
      >
        <FormError message={banner} />
        <Field label="Name" error={errors.name?.[0]}>
          {(p) => <input {...p} value={name} onChange={(e) => setName(e.target.value)} />}
        </Field>
        <fieldset className="max-h-64 overflow-y-auto rounded-md border border-zinc-200 p-2 text-sm dark:border-zinc-800">
          <legend className="px-1 font-medium">Unassigned disks ({disks.length})</legend>
          {disks.length === 0 ? <p className="text-zinc-500">Every disk already belongs to a disk pool.</p> : null}
          {disks.map((disk) => (
            <label key={disk.id} className="flex items-center gap-2">
              <input
                type="checkbox"
                checked={picked.has(disk.id)}
                onChange={(e) => {
                  const next = new Set(picked);
                  if (e.target.checked) next.add(disk.id);
                  else next.delete(disk.id);
                  setPicked(next);
                }}
              />
              {disk.name} ({disk.media}, {formatBytes(disk.sizeBytes)})
            </label>
          ))}
        </fieldset>
        {errors.diskIds ? <p className="text-xs text-red-600">{errors.diskIds[0]}</p> : null}
        <div className="flex justify-end gap-2">
          <Button onClick={onClose}>Cancel</Button>
          <Button type="submit" variant="primary" busy={create.isPending}>
            Create disk pool
          </Button>
        </div>
      </form>
    </Dialog>
  );
}

interface OpsVolumeRow {
  id: string;
  name: string;
  tenantSlug: string;
  sizeGiB: number;
  kind: string;
  logicalPoolId: string;
  state: string;
  attachments: number;
  sourceImageName: string | null;
}

function AllVolumes({ logicalPools }: { logicalPools: LogicalPool[] }) {
  const trpc = useTRPC();
  const [tenant, setTenant] = useState("");
  const dt = useDebounced(tenant);
  const [pool, setPool] = useState("");
  const [state, setState] = useState("");
  const [attached, setAttached] = useState("");
  const pages = useCursorPages(`${dt}|${pool}|${state}|${attached}`);
  const list = useQuery({
    ...trpc.storage.volumes.queryOptions({
      tenant: dt || undefined,
      logicalPoolId: pool || undefined,
      state: (state || undefined) as "available" | undefined,
      attached: attached === "" ? undefined : attached === "yes",
      cursor: pages.cursor,
    }),
    placeholderData: (p) => p,
  });
  const [open, setOpen] = useState<string | null>(null);
  const poolName = (id: string) => logicalPools.find((p) => p.id === id)?.name ?? id;
  const columns: ColumnDef<OpsVolumeRow, unknown>[] = [
    {
      id: "name",
      header: "Volume",
      cell: ({ row }) => (
        <button type="button" className="font-medium text-sky-700 hover:underline dark:text-sky-400" onClick={() => setOpen(row.original.id)}>
          {row.original.name}
        </button>
      ),
    },
    { id: "tenant", header: "Tenant", cell: ({ row }) => row.original.tenantSlug },
    { id: "size", header: "Size", cell: ({ row }) => `${row.original.sizeGiB} GiB` },
    { id: "kind", header: "Kind", cell: ({ row }) => row.original.kind },
    { id: "pool", header: "Logical pool", cell: ({ row }) => poolName(row.original.logicalPoolId) },
    { id: "image", header: "Image", cell: ({ row }) => row.original.sourceImageName ?? "—" },
    { id: "state", header: "State", cell: ({ row }) => <StateBadge state={row.original.state} /> },
    { id: "attached", header: "Attachments", cell: ({ row }) => row.original.attachments },
  ];
  return (
    <section>
      <h2 className="mb-2 text-lg font-semibold">Volumes (all tenants)</h2>
      <div className="mb-3 flex flex-wrap gap-2">
        <input aria-label="Tenant (slug)" placeholder="Tenant (slug)" value={tenant} onChange={(e) => setTenant(e.target.value)} className={inputCls} />
        <select aria-label="Logical pool" value={pool} onChange={(e) => setPool(e.target.value)} className={inputCls}>
          <option value="">Any pool</option>
          {logicalPools.map((p) => (
            <option key={p.id} value={p.id}>
              {p.name}
            </option>
          ))}
        </select>
        <select aria-label="State" value={state} onChange={(e) => setState(e.target.value)} className={inputCls}>
          <option value="">Any state</option>
          {["creating", "available", "attached", "deleting", "error"].map((s) => (
            <option key={s}>{s}</option>
          ))}
        </select>
        <select aria-label="Attached" value={attached} onChange={(e) => setAttached(e.target.value)} className={inputCls}>
          <option value="">Attached or not</option>
          <option value="yes">Attached</option>
          <option value="no">Not attached</option>
        </select>
      </div>
      <DataTable<OpsVolumeRow, string>
        label="All volumes"
        columns={columns}
        rows={list.data?.items ?? []}
        loading={list.isFetching}
        error={list.error ? errorInfo(list.error).message : null}
        empty={<EmptyState title="No volumes match" />}
        page={{ hasPrev: pages.hasPrev, hasNext: !!list.data?.nextCursor, onPrev: pages.prev, onNext: () => pages.next(list.data?.nextCursor), summary: `Page ${pages.pageIndex + 1}` }}
      />
      {open ? <VolumeDetail id={open} onClose={() => setOpen(null)} /> : null}
    </section>
  );
}

function VolumeDetail({ id, onClose }: { id: string; onClose: () => void }) {
  const trpc = useTRPC();
  const q = useQuery(trpc.storage.volume.queryOptions({ id }));
  const v = q.data;
  return (
    <Dialog open onClose={onClose} title={v ? `Volume ${v.name} (${v.tenantSlug})` : "Volume"} wide>
      {q.error ? <FormError message={errorInfo(q.error).message} /> : null}
      {v ? (
        <div className="flex flex-col gap-3 text-sm">
          <dl className="grid grid-cols-2 gap-x-4 gap-y-1">
            <dt className="text-zinc-500">Size</dt>
            <dd>{v.sizeGiB} GiB</dd>
            <dt className="text-zinc-500">Used on storage</dt>
            <dd>{v.service ? `${formatBytes(v.service.usedBytes)} own, ${formatBytes(v.service.referencedBytes)} referenced` : "—"}</dd>
            <dt className="text-zinc-500">Storage volume</dt>
            <dd className="font-mono text-xs">{v.storageVolumeId ?? "—"}</dd>
            <dt className="text-zinc-500">Parent snapshot</dt>
            <dd className="font-mono text-xs">{v.service?.sourceSnapshotId ?? "none (stands alone)"}</dd>
            <dt className="text-zinc-500">Multi-attach</dt>
            <dd>{v.multiAttach ? "yes" : "no"}</dd>
          </dl>
          <h3 className="font-semibold">Targets</h3>
          {v.targets.length === 0 ? <p className="text-zinc-500">Not exported.</p> : null}
          <ul>
            {v.targets.map((t) => (
              <li key={t.id} className="font-mono text-xs">
                {t.protocol} {t.nqn ?? t.iqn} @ {t.address}:{t.port} → {t.initiator}
              </li>
            ))}
          </ul>
          <h3 className="font-semibold">Attachments</h3>
          {v.attachments.length === 0 ? <p className="text-zinc-500">Not attached.</p> : null}
          <ul>
            {v.attachments.map((a) => (
              <li key={a.id}>{a.nodeName ?? a.instanceId ?? a.id}</li>
            ))}
          </ul>
          <h3 className="font-semibold">Snapshots</h3>
          <p>{v.snapshots.length === 0 ? "None." : v.snapshots.map((s) => s.name).join(", ")}</p>
        </div>
      ) : (
        <p>Loading…</p>
      )}
      <div className="flex justify-end">
        <Button onClick={onClose}>Close</Button>
      </div>
    </Dialog>
  );
}

function Targets() {
  const trpc = useTRPC();
  const q = useQuery(trpc.storage.targets.queryOptions({}));
  return (
    <section>
      <h2 className="mb-2 text-lg font-semibold">Targets</h2>
      {q.error ? <FormError message={errorInfo(q.error).message} /> : null}
      {q.data && q.data.length === 0 ? <p className="text-sm text-zinc-500">No volume is exported.</p> : null}
      {q.data && q.data.length > 0 ? (
        <table aria-label="Targets" className="w-full text-left text-sm">
          <thead className="text-xs text-zinc-500 uppercase">
            <tr>
              <th className="py-1">NQN / IQN</th>
              <th>Protocol</th>
              <th>Portal</th>
              <th>Exported to</th>
              <th>Volume</th>
            </tr>
          </thead>
          <tbody>
            {q.data.map((t) => (
              <tr key={t.id} className="border-t border-zinc-100 dark:border-zinc-800">
                <td className="py-1 font-mono text-xs">{t.nqn ?? t.iqn}</td>
                <td>{t.protocol}</td>
                <td>
                  {t.address}:{t.port}
                </td>
                <td className="font-mono text-xs">{t.initiator}</td>
                <td>{t.volume ? `${t.volume.tenantSlug}/${t.volume.name}` : <span className="text-zinc-500">not an Anvil volume</span>}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
    </section>
  );
}

function RenameDiskPoolDialog({ pool, onClose }: { pool: DiskPool; onClose: () => void }) {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const toast = useToast();
  const [name, setName] = useState(pool.name);
  const [error, setError] = useState<string | null>(null);
  const rename = useMutation(
    trpc.storage.updateDiskPool.mutationOptions({
      onSuccess: async (p) => {
        toast("success", `Disk pool renamed to ${p.name}.`);
        await qc.invalidateQueries(trpc.storage.pathFilter());
        onClose();
      },
      onError: (e) => setError(errorInfo(e).message),
    }),
  );
  return (
    <Dialog open onClose={onClose} title={`Rename disk pool ${pool.name}`}>
      <form
        noValidate
        className="flex flex-col gap-3"
        onSubmit={(e) => {
          e.preventDefault();
          setError(null);
          rename.mutate({ id: pool.id, name });
        }}
      >
        <Field label="Name" error={error ?? undefined}>
          {(p) => <input {...p} value={name} onChange={(e) => setName(e.target.value)} />}
        </Field>
        <div className="flex justify-end gap-2">
          <Button onClick={onClose}>Cancel</Button>
          <Button type="submit" variant="primary" busy={rename.isPending}>
            Rename
          </Button>
        </div>
      </form>
    </Dialog>
  );
}
