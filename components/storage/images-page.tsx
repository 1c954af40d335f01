"use client";
// Operator images: list filtered by OS / name, upload a raw or qcow2 file (streamed to /api/images/upload, which
// validates it by its bytes), clone, delete (refused while volumes depend on it; "flatten dependent volumes"
// copies the image's data into each first).
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import type { ColumnDef } from "@tanstack/react-table";
import { useState } from "react";
import { errorInfo, useTRPC } from "@/components/trpc";
import { Button } from "@/components/ui/button";
import { DataTable } from "@/components/ui/data-table";
import { Dialog } from "@/components/ui/dialog";
import { Field, FormError } from "@/components/ui/form";
import { EmptyState, PageHeader } from "@/components/ui/page";
import { useToast } from "@/components/ui/toast";
import { useCursorPages, useDebounced } from "@/components/ui/use-cursor-pages";
import { operatorCan, reasonOf } from "@/domain/roles";
import { formatBytes, inputCls, StateBadge } from "./shared";

interface ImageRow {
  id: string;
  name: string;
  os: string;
  version: string;
  minSizeGiB: number;
  sizeBytes: number;
  format: string;
  visibility: "public" | "tenant";
  tenantSlug: string | null;
  source: string;
  state: string;
  volumeCount: number;
}

export function ImagesPage() {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const toast = useToast();
  const me = useQuery(trpc.session.me.queryOptions());
  const changeReason = me.data ? reasonOf(operatorCan.change(me.data.platformRole)) : "Loading your permissions…";
  const [q, setQ] = useState("");
  const dq = useDebounced(q);
  const [os, setOs] = useState("");
  const pages = useCursorPages(`${dq}|${os}`);
  const list = useQuery({ ...trpc.images.list.queryOptions({ q: dq || undefined, os: os || undefined, cursor: pages.cursor }), placeholderData: (p) => p });
  const osList = useQuery(trpc.images.osList.queryOptions());
  const [uploading, setUploading] = useState(false);
  const [fromSnapshot, setFromSnapshot] = useState(false);
  const [cloning, setCloning] = useState<ImageRow | null>(null);
  const [deleting, setDeleting] = useState<ImageRow | null>(null);
  const [flatten, setFlatten] = useState(false);
  const del = useMutation(
    trpc.images.delete.mutationOptions({
      onSuccess: async (r) => {
        toast("success", `Image ${deleting?.name} deleted${r.flattened ? `; ${r.flattened} volume(s) now stand alone` : ""}.`);
        setDeleting(null);
        await qc.invalidateQueries(trpc.images.pathFilter());
      },
      onError: (e) => toast("error", errorInfo(e).message),
    }),
  );
  const columns: ColumnDef<ImageRow, unknown>[] = [
    { id: "name", header: "Name", cell: ({ row }) => <span className="font-medium">{row.original.name}</span> },
    { id: "os", header: "OS", cell: ({ row }) => `${row.original.os} ${row.original.version}` },
    { id: "size", header: "Size", cell: ({ row }) => `${formatBytes(row.original.sizeBytes)} (min ${row.original.minSizeGiB} GiB)` },
    { id: "format", header: "Format", cell: ({ row }) => row.original.format },
    { id: "visibility", header: "Visibility", cell: ({ row }) => (row.original.visibility === "public" ? "public" : `tenant ${row.original.tenantSlug}`) },
    { id: "source", header: "Source", cell: ({ row }) => row.original.source },
    { id: "volumes", header: "Volumes", cell: ({ row }) => row.original.volumeCount },
    { id: "state", header: "State", cell: ({ row }) => <StateBadge state={row.original.state} /> },
    {
      id: "actions",
      header: () => <span className="sr-only">Actions</span>,
      cell: ({ row }) => (
        <div className="flex justify-end gap-2">
          <Button size="sm" aria-label={`Clone image ${row.original.name}`} disabledReason={changeReason} onClick={() => setCloning(row.original)}>
            Clone
          </Button>
          <Button
            size="sm"
            variant="danger"
            aria-label={`Delete image ${row.original.name}`}
            disabledReason={changeReason}
            onClick={() => {
              setFlatten(false);
              setDeleting(row.original);
            }}
          >
            Delete
          </Button>
        </div>
      ),
    },
  ];
  return (
    <div>
      <PageHeader
        title="Images"
        description="System-disk images. Each keeps a golden snapshot on storage; system disks are thin clones of it."
        actions={
          <>
            <Button disabledReason={changeReason} onClick={() => setFromSnapshot(true)}>
              Image from snapshot
            </Button>
            <Button variant="primary" disabledReason={changeReason} onClick={() => setUploading(true)}>
              Upload image
            </Button>
          </>
        }
      />
      <div className="mb-3 flex gap-2">
        <input type="search" value={q} onChange={(e) => setQ(e.target.value)} placeholder="Filter by name, OS or version" aria-label="Filter images" className={`w-80 ${inputCls}`} />
        <select aria-label="OS" value={os} onChange={(e) => setOs(e.target.value)} className={inputCls}>
          <option value="">Any OS</option>
          {osList.data?.map((o) => (
            <option key={o}>{o}</option>
          ))}
        </select>
      </div>
      <DataTable<ImageRow, string>
        label="Images"
        columns={columns}
        rows={list.data?.items ?? []}
        loading={list.isFetching}
        error={list.error ? errorInfo(list.error).message : null}
        empty={<EmptyState title={dq || os ? "No image matches" : "No images yet"} body={dq || os ? undefined : "Upload a raw or qcow2 disk image."} />}
        page={{ hasPrev: pages.hasPrev, hasNext: !!list.data?.nextCursor, onPrev: pages.prev, onNext: () => pages.next(list.data?.nextCursor), summary: `Page ${pages.pageIndex + 1}` }}
      />
      {uploading ? <UploadDialog onClose={() => setUploading(false)} /> : null}
      {fromSnapshot ? <FromSnapshotDialog onClose={() => setFromSnapshot(false)} /> : null}
      {cloning ? <CloneDialog image={cloning} onClose={() => setCloning(null)} /> : null}
      <Dialog open={!!deleting} onClose={() => setDeleting(null)} title={`Delete image ${deleting?.name ?? ""}?`}>
        <div className="flex flex-col gap-3 text-sm">
          <p>
            {deleting?.volumeCount
              ? `${deleting.volumeCount} volume(s) were cloned from this image. Deleting it needs their data copied in first.`
              : "No volume depends on this image."}
          </p>
          <label className="flex items-center gap-2">
            <input type="checkbox" checked={flatten} onChange={(e) => setFlatten(e.target.checked)} /> Flatten dependent volumes (copy the image's data into each)
          </label>
          <div className="flex justify-end gap-2">
            <Button onClick={() => setDeleting(null)}>Cancel</Button>
            <Button variant="danger" busy={del.isPending} onClick={() => deleting && del.mutate({ id: deleting.id, flatten })}>
              Delete image
            </Button>
          </div>
        </div>
      </Dialog>
    </div>
  );
}

function UploadDialog({ onClose }: { onClose: () => void }) {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const toast = useToast();
  const [v, setV] = useState({ name: "", os: "", version: "", minSizeGiB: "", format: "qcow2" });
  const [file, setFile] = useState<File | null>(null);
  const [errors, setErrors] = useState<Record<string, string[]>>({});
  const [banner, setBanner] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e: React.FormEvent) => {
    e.preventDefault();
    setErrors({});
    setBanner(null);
    if (!file) return setErrors({ file: ["Choose the image file"] });
    const qs = new URLSearchParams({ name: v.name, os: v.os, version: v.version, format: v.format });
    if (v.minSizeGiB) qs.set("minSizeGiB", v.minSizeGiB);
    setBusy(true);
    try {
      const res = await fetch(`/api/images/upload?${qs}`, { method: "POST", body: file, headers: { "content-type": "application/octet-stream" } });
      const body = await res.json().catch(() => ({ error: { message: `Upload failed (${res.status}).` } }));
      if (!res.ok) {
        setErrors(body.error?.fieldErrors ?? {});
        setBanner(body.error?.message ?? `Upload failed (${res.status}).`);
        return;
      }
      toast("success", `Image ${body.name} uploaded.`);
      await qc.invalidateQueries(trpc.images.pathFilter());
      onClose();
    } finally {
      setBusy(false);
    }
  };
  return (
    <Dialog open onClose={onClose} title="Upload image">
      <form noValidate onSubmit={submit} className="flex flex-col gap-3">
        <FormError message={banner} />
        <Field label="Image file" hint="raw or qcow2; checked by its contents." error={errors.file?.[0]}>
          {(p) => <input {...p} type="file" onChange={(e) => setFile(e.target.files?.[0] ?? null)} />}
        </Field>
        <Field label="Format" error={errors.format?.[0]}>
          {(p) => (
            <select {...p} value={v.format} onChange={(e) => setV({ ...v, format: e.target.value })}>
              <option value="qcow2">qcow2</option>
              <option value="raw">raw</option>
            </select>
          )}
        </Field>
        {(["name", "os", "version", "minSizeGiB"] as const).map((k) => (
          <Field
            key={k}
            label={{ name: "Name", os: "OS", version: "OS version", minSizeGiB: "Minimum disk size (GiB)" }[k]}
            hint={k === "minSizeGiB" ? "Defaults to the image's size." : undefined}
            error={errors[k]?.[0]}
          >
            {(p) => <input {...p} type={k === "minSizeGiB" ? "number" : "text"} value={v[k]} onChange={(e) => setV({ ...v, [k]: e.target.value })} />}
          </Field>
        ))}
        <div className="flex justify-end gap-2">
          <Button onClick={onClose}>Cancel</Button>
          <Button type="submit" variant="primary" busy={busy}>
            Upload
          </Button>
        </div>
      </form>
    </Dialog>
  );
}

function CloneDialog({ image, onClose }: { image: ImageRow; onClose: () => void }) {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const toast = useToast();
  const [name, setName] = useState(`${image.name}-copy`);
  const [errors, setErrors] = useState<Record<string, string[]>>({});
  const [banner, setBanner] = useState<string | null>(null);
  const clone = useMutation(
    trpc.images.clone.mutationOptions({
      onSuccess: async (r) => {
        toast("success", `Image ${r.name} created.`);
        await qc.invalidateQueries(trpc.images.pathFilter());
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
    <Dialog open onClose={onClose} title={`Clone image ${image.name}`}>
      <form
        noValidate
        className="flex flex-col gap-3"
        onSubmit={(e) => {
          e.preventDefault();
          clone.mutate({ id: image.id, name });
        }}
      >
        <FormError message={banner} />
        <Field label="Name of the copy" error={errors.name?.[0]}>
          {(p) => <input {...p} value={name} onChange={(e) => setName(e.target.value)} />}
        </Field>
        <div className="flex justify-end gap-2">
          <Button onClick={onClose}>Cancel</Button>
          <Button type="submit" variant="primary" busy={clone.isPending}>
            Clone
          </Button>
        </div>
      </form>
    </Dialog>
  );
}

/** A public (or one-tenant) image made from a tenant's snapshot: a flattened copy, independent of the tenant's volume. */
function FromSnapshotDialog({ onClose }: { onClose: () => void }) {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const toast = useToast();
  const [tenant, setTenant] = useState("");
  const dt = useDebounced(tenant);
  const snaps = useQuery(trpc.storage.snapshots.queryOptions({ tenant: dt || undefined, limit: 200 }));
  const [v, setV] = useState({ snapshotId: "", name: "", os: "", version: "" });
  const [errors, setErrors] = useState<Record<string, string[]>>({});
  const [banner, setBanner] = useState<string | null>(null);
  const create = useMutation(
    trpc.images.createFromSnapshot.mutationOptions({
      onSuccess: async (r) => {
        toast("success", `Image ${r.name} created.`);
        await qc.invalidateQueries(trpc.images.pathFilter());
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
    <Dialog open onClose={onClose} title="Image from a tenant snapshot">
      <form
        noValidate
        className="flex flex-col gap-3"
        onSubmit={(e) => {
          e.preventDefault();
          setErrors({});
          setBanner(null);
          if (!v.snapshotId) return setErrors({ snapshotId: ["Pick a snapshot"] });
          create.mutate({ ...v, visibility: "public" });
        }}
      >
        <FormError message={banner} />
        <Field label="Tenant (slug)" hint="Narrows the snapshot list.">
          {(p) => <input {...p} value={tenant} onChange={(e) => setTenant(e.target.value)} />}
        </Field>
        <Field label="Snapshot" error={errors.snapshotId?.[0]}>
          {(p) => (
            <select {...p} value={v.snapshotId} onChange={(e) => setV({ ...v, snapshotId: e.target.value })}>
              <option value="">{snaps.isLoading ? "Loading…" : "Pick a snapshot"}</option>
              {snaps.data?.items.map((s) => (
                <option key={s.id} value={s.id}>
                  {s.tenantSlug}/{s.name} (of {s.volumeName}, {s.sizeGiB} GiB)
                </option>
              ))}
            </select>
          )}
        </Field>
        {(["name", "os", "version"] as const).map((k) => (
          <Field key={k} label={{ name: "Name", os: "OS", version: "OS version" }[k]} error={errors[k]?.[0]}>
            {(p) => <input {...p} value={v[k]} onChange={(e) => setV({ ...v, [k]: e.target.value })} />}
          </Field>
        ))}
        <div className="flex justify-end gap-2">
          <Button onClick={onClose}>Cancel</Button>
          <Button type="submit" variant="primary" busy={create.isPending}>
            Create image
          </Button>
        </div>
      </form>
    </Dialog>
  );
}
