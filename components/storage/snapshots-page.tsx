"use client";
// Tenant snapshots: list, create a volume from one (a thin clone), promote one to a private image (the backup
// path: a flattened copy that outlives the volume), delete (refused while volumes made from it exist).
import { TableHead } from "@/components/ui/table-head";
import { useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { useTRPC } from "@/components/trpc";
import { ActionButtons, Button } from "@/components/ui/button";
import { columns, ConfirmAction, ListView, useConfirmAction, useListTable } from "@/components/ui/list-table";
import { PageHeader } from "@/components/ui/page";
import { StateBadge } from "./shared";
import { SnapshotPromoteDialog } from "./snapshot-promote";
import { VolumeCreateDialog } from "./volume-create";
import { StorageUsage } from "./volumes-page";

interface SnapshotRow {
  id: string;
  name: string;
  volumeName: string;
  sizeGiB: number;
  state: string;
  volumeCount: number;
  createdAt: Date;
}
const col = columns<SnapshotRow>();

export function SnapshotsPage({ tenant }: { tenant: string }) {
  const trpc = useTRPC();
  const list = useListTable((cursor, q) => trpc.snapshots.list.queryOptions({ tenant, q, cursor }));
  const dq = list.search.dq;
  const [cloning, setCloning] = useState<SnapshotRow | null>(null);
  const [promoting, setPromoting] = useState<SnapshotRow | null>(null);
  const del = useConfirmAction({
    mutation: (o) => trpc.snapshots.delete.mutationOptions(o),
    vars: (s: SnapshotRow) => ({ tenant, id: s.id }),
    success: (s) => `Snapshot ${s.name} deleted.`,
    invalidate: [trpc.snapshots.pathFilter(), trpc.volumes.pathFilter()],
  });
  const cols = [
    col.text("name", "Name", (s) => s.name),
    col.cell("volume", "Volume", (s) => s.volumeName),
    col.count("size", "Size", (s) => `${s.sizeGiB} GiB`),
    col.cell("state", "State", (s) => <StateBadge state={s.state} />),
    col.count("clones", "Volumes from it", (s) => s.volumeCount),
    col.date("createdAt", "Created", (s) => s.createdAt),
    col.actions((s) => {
      const notReady = s.state !== "available" ? `Snapshot ${s.name} is ${s.state}.` : null;
      return (
        <>
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
            onClick={() => del.ask(s)}
          >
            Delete
          </Button>
        </>
      );
    }),
  ];
  return (
    <div>
      <PageHeader
        title="Snapshots"
        description="Point-in-time copies of your volumes. Create volumes from them, or save one as a private image (a backup that outlives the volume)."
      />
      <StorageUsage tenant={tenant} />
      <ListView
        list={list}
        label="Snapshots"
        columns={cols}
        search={{ label: "Filter snapshots", placeholder: "Filter by name" }}
        empty={dq ? { title: "No snapshot matches the filter" } : { title: "No snapshots yet", body: "Snapshot a volume from the Volumes page." }}
      />
      <TenantImages tenant={tenant} />
      {cloning ? <VolumeCreateDialog tenant={tenant} snapshot={cloning} onClose={() => setCloning(null)} /> : null}
      {promoting ? <SnapshotPromoteDialog tenant={tenant} snapshot={promoting} onClose={() => setPromoting(null)} /> : null}
      <ConfirmAction
        of={del}
        title={(s) => `Delete snapshot ${s.name}?`}
        body={() => <p>The snapshot is removed from storage for good.</p>}
        confirmLabel="Delete snapshot"
      />
    </div>
  );
}

/** The tenant's own images (saved snapshots); public images are listed by the create-volume dialog. */
function TenantImages({ tenant }: { tenant: string }) {
  const trpc = useTRPC();
  const list = useQuery(trpc.images.available.queryOptions({ tenant, limit: 200 }));
  const mine = (list.data?.items ?? []).filter((i) => i.visibility === "tenant");
  const del = useConfirmAction({
    mutation: (o) => trpc.images.deleteOwn.mutationOptions(o),
    vars: (i: { id: string; name: string }) => ({ tenant, id: i.id }),
    success: (i) => `Image ${i.name} deleted.`,
    invalidate: trpc.images.pathFilter(),
  });
  return (
    <section className="mt-8">
      <h2 className="mb-2 text-lg font-semibold">Your images</h2>
      {mine.length === 0 ? <p className="text-sm text-zinc-500">None yet: “Save as image” on a snapshot makes one only your tenant sees.</p> : null}
      {mine.length > 0 ? (
        <table aria-label="Your images" className="w-full text-left text-sm">
          <TableHead columns={["Name", "OS", "Min size", "Volumes from it", ""]} tone="muted" first="py-1" />
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
                  <ActionButtons
                    size="sm"
                    actions={[
                      {
                        label: "Delete",
                        variant: "danger",
                        name: `Delete image ${i.name}`,
                        disabledReason: i.volumeCount > 0 ? `${i.volumeCount} volume(s) were created from this image; delete them first.` : null,
                        onClick: () => del.ask(i),
                      },
                    ]}
                  />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
      <ConfirmAction
        of={del}
        title={(i) => `Delete image ${i.name}?`}
        body={() => <p>The image is removed from storage for good.</p>}
        confirmLabel="Delete image"
      />
    </section>
  );
}
