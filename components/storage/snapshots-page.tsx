"use client";
// Tenant snapshots: list, create a volume from one (a thin clone), promote one to a private image (the backup
// path: a flattened copy that outlives the volume), delete (refused while volumes made from it exist).
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import type { ColumnDef } from "@tanstack/react-table";
import { useState } from "react";
import { errorInfo, useTRPC } from "@/components/trpc";
import { Button } from "@/components/ui/button";
import { DataTable } from "@/components/ui/data-table";
import { ConfirmDialog, Dialog } from "@/components/ui/dialog";
import { Field, FormError } from "@/components/ui/form";
import { EmptyState, PageHeader } from "@/components/ui/page";
import { useToast } from "@/components/ui/toast";
import { useCursorPages, useDebounced } from "@/components/ui/use-cursor-pages";
import { inputCls, StateBadge } from "./shared";
import { StorageUsage, VolumeCreateDialog } from "./volumes-page";

interface SnapshotRow {
  id: string;
  name: string;
  volumeName: string;
  sizeGiB: number;
  state: string;
  volumeCount: number;
  createdAt: Date;
}

export function SnapshotsPage({ tenant }: { tenant: string }) {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const toast = useToast();
  const [q, setQ] = useState("");
  const dq = useDebounced(q);
  const pages = useCursorPages(dq);
  const list = useQuery({ ...trpc.snapshots.list.queryOptions({ tenant, q: dq || undefined, cursor: pages.cursor }), placeholderData: (p) => p });
  const [cloning, setCloning] = useState<SnapshotRow | null>(null);
  const [promoting, setPromoting] = useState<SnapshotRow | null>(null);
  const [deleting, setDeleting] = useState<SnapshotRow | null>(null);
  const del = useMutation(
    trpc.snapshots.delete.mutationOptions({
      onSuccess: async () => {
        toast("success", `Snapshot ${deleting?.name} deleted.`);
        setDeleting(null);
        await Promise.all([qc.invalidateQueries(trpc.snapshots.pathFilter()), qc.invalidateQueries(trpc.volumes.pathFilter())]);
      },
      onError: (e) => toast("error", errorInfo(e).message),
    }),
  );
  const columns: ColumnDef<SnapshotRow, unknown>[] = [
    { id: "name", header: "Name", cell: ({ row }) => <span className="font-medium">{row.original.name}</span> },
    { id: "volume", header: "Volume", cell: ({ row }) => row.original.volumeName },
    { id: "size", header: "Size", cell: ({ row }) => <span className="tabular-nums">{row.original.sizeGiB} GiB</span> },
    { id: "state", header: "State", cell: ({ row }) => <StateBadge state={row.original.state} /> },
    { id: "clones", header: "Volumes from it", cell: ({ row }) => <span className="tabular-nums">{row.original.volumeCount}</span> },
    { id: "createdAt", header: "Created", cell: ({ row }) => new Date(row.original.createdAt).toLocaleString() },
    {
      id: "actions",
      header: () => <span className="sr-only">Actions</span>,
      cell: ({ row }) => {
        const s = row.original;
        const notReady = s.state !== "available" ? `Snapshot ${s.name} is ${s.state}.` : null;
        return (
          <div className="flex justify-end gap-2">
            <Button size="sm" aria-label={`Create volume from snapshot ${s.name}`} disabledReason={notReady} onClick={() => setCloning(s)}>
              Create volume
            </Button>
            <Button size="sm" aria-label={`Save snapshot ${s.name} as an image`} disabledReason={notReady} onClick={() => setPromoting(s)}>
              Save as image
            </Button>
            <Button
              size="sm"
              variant="danger"
              aria-label={`Delete snapshot ${s.name}`}
              disabledReason={notReady ?? (s.volumeCount > 0 ? `${s.volumeCount} volume(s) were created from this snapshot; delete them first.` : null)}
              onClick={() => setDeleting(s)}
            >
              Delete
            </Button>
          </div>
        );
      },
    },
  ];
  return (
    <div>
      <PageHeader title="Snapshots" description="Point-in-time copies of your volumes. Create volumes from them, or save one as a private image (a backup that outlives the volume)." />
      <StorageUsage tenant={tenant} />
      <div className="mb-3">
        <input type="search" value={q} onChange={(e) => setQ(e.target.value)} placeholder="Filter by name" aria-label="Filter snapshots" className={`w-80 ${inputCls}`} />
      </div>
      <DataTable<SnapshotRow, string>
        label="Snapshots"
        columns={columns}
        rows={list.data?.items ?? []}
        loading={list.isFetching}
        error={list.error ? errorInfo(list.error).message : null}
        empty={<EmptyState title={dq ? "No snapshot matches the filter" : "No snapshots yet"} body={dq ? undefined : "Snapshot a volume from the Volumes page."} />}
        page={{ hasPrev: pages.hasPrev, hasNext: !!list.data?.nextCursor, onPrev: pages.prev, onNext: () => pages.next(list.data?.nextCursor), summary: `Page ${pages.pageIndex + 1}` }}
      />
      <TenantImages tenant={tenant} />
      {cloning ? <VolumeCreateDialog tenant={tenant} snapshot={cloning} onClose={() => setCloning(null)} /> : null}
      {promoting ? <PromoteDialog tenant={tenant} snapshot={promoting} onClose={() => setPromoting(null)} /> : null}
      <ConfirmDialog
        open={!!deleting}
        title={`Delete snapshot ${deleting?.name ?? ""}?`}
        body={<p>The snapshot is removed from storage for good.</p>}
        confirmLabel="Delete snapshot"
        busy={del.isPending}
        onConfirm={() => deleting && del.mutate({ tenant, id: deleting.id })}
        onClose={() => setDeleting(null)}
      />
    </div>
  );
}

function PromoteDialog({ tenant, snapshot, onClose }: { tenant: string; snapshot: SnapshotRow; onClose: () => void }) {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const toast = useToast();
  const [v, setV] = useState({ name: `${snapshot.name}-image`, os: "", version: "" });
  const [errors, setErrors] = useState<Record<string, string[]>>({});
  const [banner, setBanner] = useState<string | null>(null);
  const promote = useMutation(
    trpc.snapshots.promote.mutationOptions({
      onSuccess: async (img) => {
        toast("success", `Image ${img.name} saved; only your tenant sees it.`);
        await qc.invalidateQueries(trpc.images.pathFilter());
        onClose();
      },
      onError: (e) => {
        const info = errorInfo(e);
        setErrors(info.fieldErrors);
        if (Object.keys(info.fieldErrors).length === 0) setBanner(info.message);
      },
    }),
  );
  return (
    <Dialog open onClose={onClose} title={`Save snapshot ${snapshot.name} as an image`}>
      <form
        noValidate
        className="flex flex-col gap-4"
        onSubmit={(e) => {
          e.preventDefault();
          setErrors({});
          setBanner(null);
          promote.mutate({ tenant, id: snapshot.id, ...v });
        }}
      >
        <FormError message={banner} />
        {(["name", "os", "version"] as const).map((k) => (
          <Field key={k} label={{ name: "Image name", os: "OS", version: "OS version" }[k]} error={errors[k]?.[0]}>
            {(p) => <input {...p} value={v[k]} onChange={(e) => setV({ ...v, [k]: e.target.value })} />}
          </Field>
        ))}
        <div className="flex justify-end gap-2">
          <Button onClick={onClose}>Cancel</Button>
          <Button type="submit" variant="primary" busy={promote.isPending}>
            Save as image
          </Button>
        </div>
      </form>
    </Dialog>
  );
}

/** The tenant's own images (saved snapshots); public images are listed by the create-volume dialog. */
function TenantImages({ tenant }: { tenant: string }) {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const toast = useToast();
  const list = useQuery(trpc.images.available.queryOptions({ tenant, limit: 200 }));
  const mine = (list.data?.items ?? []).filter((i) => i.visibility === "tenant");
  const [deleting, setDeleting] = useState<{ id: string; name: string } | null>(null);
  const del = useMutation(
    trpc.images.deleteOwn.mutationOptions({
      onSuccess: async () => {
        toast("success", `Image ${deleting?.name} deleted.`);
        setDeleting(null);
        await qc.invalidateQueries(trpc.images.pathFilter());
      },
      onError: (e) => toast("error", errorInfo(e).message),
    }),
  );
  return (
    <section className="mt-8">
      <h2 className="mb-2 text-lg font-semibold">Your images</h2>
      {mine.length === 0 ? <p className="text-sm text-zinc-500">None yet: “Save as image” on a snapshot makes one only your tenant sees.</p> : null}
      {mine.length > 0 ? (
        <table aria-label="Your images" className="w-full text-left text-sm">
          <thead className="text-xs text-zinc-500 uppercase">
            <tr>
              <th className="py-1">Name</th>
              <th>OS</th>
              <th>Min size</th>
              <th>Volumes from it</th>
              <th>
                <span className="sr-only">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {mine.map((i) => (
              <tr key={i.id} className="border-t border-zinc-100 dark:border-zinc-800">
                <td className="py-1 font-medium">{i.name}</td>
                <td>
                  {i.os} {i.version}
                </td>
                <td>{i.minSizeGiB} GiB</td>
                <td>{i.volumeCount}</td>
                <td className="text-right">
                  <Button
                    size="sm"
                    variant="danger"
                    aria-label={`Delete image ${i.name}`}
                    disabledReason={i.volumeCount > 0 ? `${i.volumeCount} volume(s) were created from this image; delete them first.` : null}
                    onClick={() => setDeleting(i)}
                  >
                    Delete
                  </Button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
      <ConfirmDialog
        open={!!deleting}
        title={`Delete image ${deleting?.name ?? ""}?`}
        body={<p>The image is removed from storage for good.</p>}
        confirmLabel="Delete image"
        busy={del.isPending}
        onConfirm={() => deleting && del.mutate({ tenant, id: deleting.id })}
        onClose={() => setDeleting(null)}
      />
    </section>
  );
}
