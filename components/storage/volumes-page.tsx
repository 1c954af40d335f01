"use client";
// Tenant volumes: usage vs quota, the list (filter, cursor pages), create (blank, from an image — a thin clone of
// its golden snapshot — or from a snapshot), resize up, snapshot, delete (disabled with the reason while
// attached). Server refusals (quota, pool capacity, image minimum) land on the field or the form banner.
import { zodResolver } from "@hookform/resolvers/zod";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import type { ColumnDef } from "@tanstack/react-table";
import { useState } from "react";
import { useForm } from "react-hook-form";
import { z } from "zod";
import { errorInfo, useTRPC } from "@/components/trpc";
import { Button } from "@/components/ui/button";
import { DataTable } from "@/components/ui/data-table";
import { ConfirmDialog, Dialog } from "@/components/ui/dialog";
import { Field, FormError } from "@/components/ui/form";
import { EmptyState, PageHeader } from "@/components/ui/page";
import { useToast } from "@/components/ui/toast";
import { useCursorPages, useDebounced } from "@/components/ui/use-cursor-pages";
import { sizeGiBRule, storageNameRule } from "@/db/validation/storage";
import { inputCls, placeErrors, StateBadge, UsageMeter } from "./shared";

export interface VolumeRow {
  id: string;
  name: string;
  sizeGiB: number;
  kind: "system" | "data";
  state: string;
  multiAttach: boolean;
  attachments: number;
  sourceImageName: string | null;
  sourceSnapshotName: string | null;
  deleteBlocker: string | null;
  createdAt: Date;
}

export function StorageUsage({ tenant }: { tenant: string }) {
  const trpc = useTRPC();
  const usage = useQuery(trpc.volumes.usage.queryOptions({ tenant }));
  if (!usage.data) return null;
  const u = usage.data;
  return (
    <section aria-label="Storage quota" className="mb-4 flex flex-wrap gap-3">
      <UsageMeter label="Volumes" used={u.volumes.used} limit={u.volumes.limit} />
      <UsageMeter label="Volume capacity" used={u.volumeGiB.used} limit={u.volumeGiB.limit} unit=" GiB" />
      <UsageMeter label="Snapshots" used={u.snapshots.used} limit={u.snapshots.limit} />
    </section>
  );
}

export function VolumesPage({ tenant }: { tenant: string }) {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const toast = useToast();
  const [q, setQ] = useState("");
  const dq = useDebounced(q);
  const pages = useCursorPages(dq);
  const list = useQuery({ ...trpc.volumes.list.queryOptions({ tenant, q: dq || undefined, cursor: pages.cursor }), placeholderData: (p) => p });
  const [creating, setCreating] = useState(false);
  const [resizing, setResizing] = useState<VolumeRow | null>(null);
  const [snapshotting, setSnapshotting] = useState<VolumeRow | null>(null);
  const [deleting, setDeleting] = useState<VolumeRow | null>(null);
  const [viewing, setViewing] = useState<string | null>(null);
  const refresh = () => Promise.all([qc.invalidateQueries(trpc.volumes.pathFilter()), qc.invalidateQueries(trpc.snapshots.pathFilter())]);
  const del = useMutation(
    trpc.volumes.delete.mutationOptions({
      onSuccess: async () => {
        toast("success", `Volume ${deleting?.name} deleted.`);
        setDeleting(null);
        await refresh();
      },
      onError: (e) => toast("error", errorInfo(e).message),
    }),
  );

  const columns: ColumnDef<VolumeRow, unknown>[] = [
    {
      id: "name",
      header: "Name",
      cell: ({ row }) => (
        <button type="button" className="font-medium text-sky-700 hover:underline dark:text-sky-400" onClick={() => setViewing(row.original.id)}>
          {row.original.name}
        </button>
      ),
    },
    { id: "sizeGiB", header: "Size", cell: ({ row }) => <span className="tabular-nums">{row.original.sizeGiB} GiB</span> },
    { id: "kind", header: "Kind", cell: ({ row }) => row.original.kind },
    {
      id: "source",
      header: "Source",
      cell: ({ row }) =>
        row.original.sourceImageName ? `image ${row.original.sourceImageName}` : row.original.sourceSnapshotName ? `snapshot ${row.original.sourceSnapshotName}` : "blank",
    },
    { id: "state", header: "State", cell: ({ row }) => <StateBadge state={row.original.attachments > 0 ? "attached" : row.original.state} /> },
    { id: "multiAttach", header: "Multi-attach", cell: ({ row }) => (row.original.multiAttach ? "yes" : "no") },
    {
      id: "actions",
      header: () => <span className="sr-only">Actions</span>,
      cell: ({ row }) => {
        const v = row.original;
        const busy = v.state === "creating" || v.state === "deleting" ? `Volume ${v.name} is ${v.state}.` : null;
        return (
          <div className="flex justify-end gap-2">
            <Button size="sm" aria-label={`Snapshot volume ${v.name}`} disabledReason={busy} onClick={() => setSnapshotting(v)}>
              Snapshot
            </Button>
            <Button size="sm" aria-label={`Resize volume ${v.name}`} disabledReason={busy} onClick={() => setResizing(v)}>
              Resize
            </Button>
            <Button size="sm" variant="danger" aria-label={`Delete volume ${v.name}`} disabledReason={v.deleteBlocker} onClick={() => setDeleting(v)}>
              Delete
            </Button>
          </div>
        );
      },
    },
  ];

  return (
    <div>
      <PageHeader
        title="Volumes"
        description="Block volumes on the distributed storage. A system disk is a thin clone of an image: created in seconds, no data copied."
        actions={
          <Button variant="primary" onClick={() => setCreating(true)}>
            Create volume
          </Button>
        }
      />
      <StorageUsage tenant={tenant} />
      <div className="mb-3">
        <input type="search" value={q} onChange={(e) => setQ(e.target.value)} placeholder="Filter by name" aria-label="Filter volumes" className={`w-80 ${inputCls}`} />
      </div>
      <DataTable<VolumeRow, string>
        label="Volumes"
        columns={columns}
        rows={list.data?.items ?? []}
        loading={list.isFetching}
        error={list.error ? errorInfo(list.error).message : null}
        empty={<EmptyState title={dq ? "No volume matches the filter" : "No volumes yet"} body={dq ? undefined : "Create a blank volume, or a system disk from an image."} />}
        page={{ hasPrev: pages.hasPrev, hasNext: !!list.data?.nextCursor, onPrev: pages.prev, onNext: () => pages.next(list.data?.nextCursor), summary: `Page ${pages.pageIndex + 1}` }}
      />
      {creating ? <VolumeCreateDialog tenant={tenant} onClose={() => setCreating(false)} /> : null}
      {viewing ? <VolumeDetailDialog tenant={tenant} id={viewing} onClose={() => setViewing(null)} /> : null}
      {resizing ? <ResizeDialog tenant={tenant} volume={resizing} onClose={() => setResizing(null)} /> : null}
      {snapshotting ? <SnapshotDialog tenant={tenant} volume={snapshotting} onClose={() => setSnapshotting(null)} /> : null}
      <ConfirmDialog
        open={!!deleting}
        title={`Delete volume ${deleting?.name ?? ""}?`}
        body={<p>The volume and its snapshots are removed from storage for good. This cannot be undone.</p>}
        confirmLabel="Delete volume"
        busy={del.isPending}
        onConfirm={() => deleting && del.mutate({ tenant, id: deleting.id })}
        onClose={() => setDeleting(null)}
      />
    </div>
  );
}

const createForm = z.object({
  name: storageNameRule,
  sizeGiB: z.coerce.number().pipe(sizeGiBRule),
  source: z.enum(["blank", "image", "snapshot"]),
  imageId: z.string().optional(),
  snapshotId: z.string().optional(),
  multiAttach: z.boolean(),
});
type CreateForm = z.input<typeof createForm>;

export function VolumeCreateDialog({ tenant, onClose, snapshot }: { tenant: string; onClose: () => void; snapshot?: { id: string; name: string; sizeGiB: number } }) {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const toast = useToast();
  const [submitError, setSubmitError] = useState<string | null>(null);
  const form = useForm<CreateForm, unknown, z.output<typeof createForm>>({
    resolver: zodResolver(createForm),
    defaultValues: { name: "", sizeGiB: snapshot?.sizeGiB ?? 10, source: snapshot ? "snapshot" : "blank", snapshotId: snapshot?.id, multiAttach: false },
  });
  const source = form.watch("source");
  const images = useQuery({ ...trpc.images.available.queryOptions({ tenant, limit: 200 }), enabled: source === "image" });
  const snaps = useQuery({ ...trpc.snapshots.list.queryOptions({ tenant, limit: 200 }), enabled: source === "snapshot" && !snapshot });
  const create = useMutation(
    trpc.volumes.create.mutationOptions({
      onSuccess: async (v) => {
        toast("success", `Volume ${v.name} created.`);
        await Promise.all([qc.invalidateQueries(trpc.volumes.pathFilter()), qc.invalidateQueries(trpc.snapshots.pathFilter())]);
        onClose();
      },
      onError: (e) => setSubmitError(placeErrors(form, e, ["name", "sizeGiB", "imageId", "snapshotId"])),
    }),
  );
  const submit = form.handleSubmit((v) => {
    setSubmitError(null);
    if (v.source === "image" && !v.imageId) return form.setError("imageId", { message: "Pick an image" });
    if (v.source === "snapshot" && !v.snapshotId) return form.setError("snapshotId", { message: "Pick a snapshot" });
    create.mutate({
      tenant,
      name: v.name,
      sizeGiB: v.sizeGiB,
      multiAttach: v.multiAttach,
      imageId: v.source === "image" ? v.imageId : undefined,
      snapshotId: v.source === "snapshot" ? v.snapshotId : undefined,
    });
  });
  const close = () => {
    if (form.formState.isDirty && !create.isPending && !window.confirm("Discard unsaved changes?")) return;
    onClose();
  };
  const imageHint = (id?: string) => {
    const img = images.data?.items.find((i) => i.id === id);
    return img ? `${img.os} ${img.version}; at least ${img.minSizeGiB} GiB.` : undefined;
  };
  return (
    <Dialog open onClose={close} title={snapshot ? `Create volume from snapshot ${snapshot.name}` : "Create volume"}>
      <form onSubmit={submit} noValidate className="flex flex-col gap-4">
        <FormError message={submitError} />
        <Field label="Name" hint="Letters, digits, '.', '_' and '-'." error={form.formState.errors.name}>
          {(p) => <input {...p} autoFocus {...form.register("name")} />}
        </Field>
        {snapshot ? null : (
          <Field label="Source" error={undefined}>
            {(p) => (
              <select {...p} {...form.register("source")}>
                <option value="blank">Blank volume</option>
                <option value="image">From an image (system disk)</option>
                <option value="snapshot">From a snapshot</option>
              </select>
            )}
          </Field>
        )}
        {source === "image" ? (
          <Field label="Image" hint={imageHint(form.watch("imageId"))} error={form.formState.errors.imageId}>
            {(p) => (
              <select
                {...p}
                {...form.register("imageId", {
                  onChange: (e) => {
                    const img = images.data?.items.find((i) => i.id === e.target.value);
                    if (img && Number(form.getValues("sizeGiB")) < img.minSizeGiB) form.setValue("sizeGiB", img.minSizeGiB);
                  },
                })}
              >
                <option value="">{images.isLoading ? "Loading…" : "Pick an image"}</option>
                {images.data?.items.map((i) => (
                  <option key={i.id} value={i.id}>
                    {i.name} ({i.os} {i.version})
                  </option>
                ))}
              </select>
            )}
          </Field>
        ) : null}
        {source === "snapshot" && !snapshot ? (
          <Field label="Snapshot" error={form.formState.errors.snapshotId}>
            {(p) => (
              <select {...p} {...form.register("snapshotId")}>
                <option value="">{snaps.isLoading ? "Loading…" : "Pick a snapshot"}</option>
                {snaps.data?.items.map((s) => (
                  <option key={s.id} value={s.id}>
                    {s.name} (of {s.volumeName}, {s.sizeGiB} GiB)
                  </option>
                ))}
              </select>
            )}
          </Field>
        ) : null}
        <Field label="Size (GiB)" error={form.formState.errors.sizeGiB?.message}>
          {(p) => <input {...p} type="number" min={1} step={1} {...form.register("sizeGiB")} />}
        </Field>
        <label className="flex items-center gap-2 text-sm">
          <input type="checkbox" {...form.register("multiAttach")} /> Multi-attach (may be attached to several servers at once)
        </label>
        <div className="flex justify-end gap-2">
          <Button onClick={close}>Cancel</Button>
          <Button type="submit" variant="primary" busy={create.isPending}>
            Create volume
          </Button>
        </div>
      </form>
    </Dialog>
  );
}

function ResizeDialog({ tenant, volume, onClose }: { tenant: string; volume: VolumeRow; onClose: () => void }) {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const toast = useToast();
  const [size, setSize] = useState(String(volume.sizeGiB * 2));
  const [error, setError] = useState<string | null>(null);
  const resize = useMutation(
    trpc.volumes.resize.mutationOptions({
      onSuccess: async (v) => {
        toast("success", `Volume ${v.name} is now ${v.sizeGiB} GiB.`);
        await qc.invalidateQueries(trpc.volumes.pathFilter());
        onClose();
      },
      onError: (e) => setError(errorInfo(e).message),
    }),
  );
  return (
    <Dialog open onClose={onClose} title={`Resize volume ${volume.name}`}>
      <form
        noValidate
        className="flex flex-col gap-4"
        onSubmit={(e) => {
          e.preventDefault();
          setError(null);
          resize.mutate({ tenant, id: volume.id, sizeGiB: Number(size) });
        }}
      >
        <Field label="New size (GiB)" hint={`Now ${volume.sizeGiB} GiB. Volumes only grow.`} error={error ?? undefined}>
          {(p) => <input {...p} type="number" min={volume.sizeGiB} value={size} onChange={(e) => setSize(e.target.value)} />}
        </Field>
        <div className="flex justify-end gap-2">
          <Button onClick={onClose}>Cancel</Button>
          <Button type="submit" variant="primary" busy={resize.isPending}>
            Resize
          </Button>
        </div>
      </form>
    </Dialog>
  );
}

function SnapshotDialog({ tenant, volume, onClose }: { tenant: string; volume: VolumeRow; onClose: () => void }) {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const toast = useToast();
  const [name, setName] = useState(`${volume.name}-snap`);
  const [error, setError] = useState<string | null>(null);
  const create = useMutation(
    trpc.snapshots.create.mutationOptions({
      onSuccess: async (s) => {
        toast("success", `Snapshot ${s.name} created.`);
        await Promise.all([qc.invalidateQueries(trpc.snapshots.pathFilter()), qc.invalidateQueries(trpc.volumes.pathFilter())]);
        onClose();
      },
      onError: (e) => setError(errorInfo(e).message),
    }),
  );
  return (
    <Dialog open onClose={onClose} title={`Snapshot volume ${volume.name}`}>
      <form
        noValidate
        className="flex flex-col gap-4"
        onSubmit={(e) => {
          e.preventDefault();
          setError(null);
          create.mutate({ tenant, volumeId: volume.id, name });
        }}
      >
        <Field label="Snapshot name" error={error ?? undefined}>
          {(p) => <input {...p} value={name} onChange={(e) => setName(e.target.value)} />}
        </Field>
        <div className="flex justify-end gap-2">
          <Button onClick={onClose}>Cancel</Button>
          <Button type="submit" variant="primary" busy={create.isPending}>
            Create snapshot
          </Button>
        </div>
      </form>
    </Dialog>
  );
}

function VolumeDetailDialog({ tenant, id, onClose }: { tenant: string; id: string; onClose: () => void }) {
  const trpc = useTRPC();
  const q = useQuery(trpc.volumes.get.queryOptions({ tenant, id }));
  const v = q.data;
  return (
    <Dialog open onClose={onClose} title={v ? `Volume ${v.name}` : "Volume"}>
      {q.error ? <FormError message={errorInfo(q.error).message} /> : null}
      {v ? (
        <dl className="grid grid-cols-2 gap-x-4 gap-y-1 text-sm">
          <dt className="text-zinc-500">Size</dt>
          <dd>{v.sizeGiB} GiB</dd>
          <dt className="text-zinc-500">Kind</dt>
          <dd>{v.kind}</dd>
          <dt className="text-zinc-500">Source</dt>
          <dd>{v.sourceImageName ? `image ${v.sourceImageName}` : v.sourceSnapshotName ? `snapshot ${v.sourceSnapshotName}` : "blank"}</dd>
          <dt className="text-zinc-500">State</dt>
          <dd>
            <StateBadge state={v.attachments > 0 ? "attached" : v.state} />
          </dd>
          <dt className="text-zinc-500">Multi-attach</dt>
          <dd>{v.multiAttach ? "yes" : "no"}</dd>
          <dt className="text-zinc-500">Attachments</dt>
          <dd>{v.attachments}</dd>
          <dt className="text-zinc-500">Snapshots</dt>
          <dd>{v.snapshots.length === 0 ? "none" : v.snapshots.map((s) => s.name).join(", ")}</dd>
          <dt className="text-zinc-500">Created</dt>
          <dd>{new Date(v.createdAt).toLocaleString()}</dd>
          {v.deleteBlocker ? (
            <>
              <dt className="text-zinc-500">Can delete?</dt>
              <dd>{v.deleteBlocker}</dd>
            </>
          ) : null}
        </dl>
      ) : (
        <p>Loading…</p>
      )}
      <div className="flex justify-end">
        <Button onClick={onClose}>Close</Button>
      </div>
    </Dialog>
  );
}
