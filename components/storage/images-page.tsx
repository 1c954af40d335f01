"use client";
// Operator images: list filtered by OS / name, upload a raw or qcow2 file (streamed to /api/images/upload, which
// validates it by its bytes), import one from an http(s) URL, each with its SHA-256 shown and copyable, clone, delete (refused while volumes depend on it; "flatten dependent volumes"
// copies the image's data into each first).
import { useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { useTRPC } from "@/components/trpc";
import { columns, ListView, useListTable } from "@/components/ui/list-table";
import { PageHeader } from "@/components/ui/page";
import { operatorCan, reasonOf } from "@/domain/roles";
import { Checksum } from "./image-checksum";
import { ImageImportDialog } from "./image-import";
import { ImageCloneDialog } from "./image-clone";
import { ImageDeleteDialog } from "./image-delete";
import { ImageFromSnapshotDialog } from "./image-from-snapshot";
import { ImageUploadDialog } from "./image-upload";
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
  checksumSha256: string | null;
}
const col = columns<ImageRow>();

export function ImagesPage() {
  const trpc = useTRPC();
  const me = useQuery(trpc.session.me.queryOptions());
  const changeReason = me.data ? reasonOf(operatorCan.change(me.data.platformRole)) : "Loading your permissions…";
  const [os, setOs] = useState("");
  const list = useListTable((cursor, q) => trpc.images.list.queryOptions({ q, os: os || undefined, cursor }), { resetKey: os });
  const dq = list.search.dq;
  const osList = useQuery(trpc.images.osList.queryOptions());
  const [uploading, setUploading] = useState(false);
  const [importing, setImporting] = useState(false);
  const [fromSnapshot, setFromSnapshot] = useState(false);
  const [cloning, setCloning] = useState<ImageRow | null>(null);
  const [deleting, setDeleting] = useState<ImageRow | null>(null);
  const cols = [
    col.text("name", "Name", (i) => i.name),
    col.cell("os", "OS", (i) => `${i.os} ${i.version}`),
    col.cell("size", "Size", (i) => `${formatBytes(i.sizeBytes)} (min ${i.minSizeGiB} GiB)`),
    col.cell("format", "Format", (i) => i.format),
    col.cell("visibility", "Visibility", (i) => (i.visibility === "public" ? "public" : `tenant ${i.tenantSlug}`)),
    col.cell("source", "Source", (i) => i.source),
    col.cell("checksum", "SHA-256", (i) => <Checksum value={i.checksumSha256} short />),
    col.cell("volumes", "Volumes", (i) => i.volumeCount),
    col.cell("state", "State", (i) => <StateBadge state={i.state} />),
    col.buttons((i) => [
      { label: "Clone", name: `Clone image ${i.name}`, disabledReason: changeReason, onClick: () => setCloning(i) },
      { label: "Delete", variant: "danger", name: `Delete image ${i.name}`, disabledReason: changeReason, onClick: () => setDeleting(i) },
    ]),
  ];
  return (
    <div>
      <PageHeader
        title="Images"
        description="System-disk images. Each keeps a golden snapshot on storage; system disks are thin clones of it."
        buttons={[
          { label: "Image from snapshot", disabledReason: changeReason, onClick: () => setFromSnapshot(true) },
          { label: "Import from URL", disabledReason: changeReason, onClick: () => setImporting(true) },
          { label: "Upload image", variant: "primary", disabledReason: changeReason, onClick: () => setUploading(true) },
        ]}
      />
      <ListView
        list={list}
        label="Images"
        columns={cols}
        search={{ label: "Filter images", placeholder: "Filter by name, OS or version" }}
        bar="mb-3 flex gap-2"
        filters={
          <select aria-label="OS" value={os} onChange={(e) => setOs(e.target.value)} className={inputCls}>
            <option value="">Any OS</option>
            {osList.data?.map((o) => (
              <option key={o}>{o}</option>
            ))}
          </select>
        }
        empty={dq || os ? { title: "No image matches" } : { title: "No images yet", body: "Upload a raw or qcow2 disk image." }}
      />
      {uploading ? <ImageUploadDialog onClose={() => setUploading(false)} /> : null}
      {importing ? <ImageImportDialog onClose={() => setImporting(false)} /> : null}
      {fromSnapshot ? <ImageFromSnapshotDialog onClose={() => setFromSnapshot(false)} /> : null}
      {cloning ? <ImageCloneDialog image={cloning} onClose={() => setCloning(null)} /> : null}
      {deleting ? <ImageDeleteDialog image={deleting} onClose={() => setDeleting(null)} /> : null}
    </div>
  );
}
