"use client";
import { useState } from "react";
import { useTRPC } from "@/components/trpc";
import { Button } from "@/components/ui/button";
import { columns, ConfirmAction, ListView, useConfirmAction, useListTable } from "@/components/ui/list-table";
import { PageHeader } from "@/components/ui/page";
import { QueriedMeters, StateBadge } from "./shared";
import { VolumeCreateDialog } from "./volume-create";
import { VolumeDetailDialog } from "./volume-detail";
import { VolumeResizeDialog } from "./volume-resize";
import { VolumeSnapshotDialog } from "./volume-snapshot";

export { VolumeCreateDialog };

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
const col = columns<VolumeRow>();

export function StorageUsage({ tenant }: { tenant: string }) {
  const trpc = useTRPC();
  return (
    <QueriedMeters
      label="Storage quota"
      query={trpc.volumes.usage.queryOptions({ tenant })}
      meters={(u) => [
        { label: "Volumes", ...u.volumes },
        { label: "Volume capacity", ...u.volumeGiB, unit: " GiB" },
        { label: "Snapshots", ...u.snapshots },
      ]}
    />
  );
}

export function VolumesPage({ tenant }: { tenant: string }) {
  const trpc = useTRPC();
  const list = useListTable((cursor, q) => trpc.volumes.list.queryOptions({ tenant, q, cursor }));
  const dq = list.search.dq;
  const [creating, setCreating] = useState(false);
  const [resizing, setResizing] = useState<VolumeRow | null>(null);
  const [snapshotting, setSnapshotting] = useState<VolumeRow | null>(null);
  const [viewing, setViewing] = useState<string | null>(null);
  const del = useConfirmAction({
    mutation: (o) => trpc.volumes.delete.mutationOptions(o),
    vars: (v: VolumeRow) => ({ tenant, id: v.id }),
    success: (v) => `Volume ${v.name} deleted.`,
    invalidate: [trpc.volumes.pathFilter(), trpc.snapshots.pathFilter()],
  });

  const cols = [
    col.cell("name", "Name", (v) => (
      <button type="button" className="font-medium text-sky-700 hover:underline dark:text-sky-400" onClick={() => setViewing(v.id)}>
        {v.name}
      </button>
    )),
    col.count("sizeGiB", "Size", (v) => `${v.sizeGiB} GiB`),
    col.cell("kind", "Kind", (v) => v.kind),
    col.cell("source", "Source", (v) =>
      v.sourceImageName ? `image ${v.sourceImageName}` : v.sourceSnapshotName ? `snapshot ${v.sourceSnapshotName}` : "blank",
    ),
    col.cell("state", "State", (v) => <StateBadge state={v.attachments > 0 ? "attached" : v.state} />),
    col.cell("multiAttach", "Multi-attach", (v) => (v.multiAttach ? "yes" : "no")),
    col.actions((v) => {
      const busy = v.state === "creating" || v.state === "deleting" ? `Volume ${v.name} is ${v.state}.` : null;
      return (
        <>
          <Button size="sm" aria-label={`Snapshot volume ${v.name}`} disabledReason={busy} onClick={() => setSnapshotting(v)}>
            Snapshot
          </Button>
          <Button size="sm" aria-label={`Resize volume ${v.name}`} disabledReason={busy} onClick={() => setResizing(v)}>
            Resize
          </Button>
          <Button size="sm" variant="danger" aria-label={`Delete volume ${v.name}`} disabledReason={v.deleteBlocker} onClick={() => del.ask(v)}>
            Delete
          </Button>
        </>
      );
    }),
  ];

  return (
    <div>
      <PageHeader
        title="Volumes"
        description="Block volumes on the distributed storage. A system disk is a thin clone of an image: created in seconds, no data copied."
        buttons={[{ label: "Create volume", variant: "primary", onClick: () => setCreating(true) }]}
      />
      <StorageUsage tenant={tenant} />
      <ListView
        list={list}
        label="Volumes"
        columns={cols}
        search={{ label: "Filter volumes", placeholder: "Filter by name" }}
        empty={dq ? { title: "No volume matches the filter" } : { title: "No volumes yet", body: "Create a blank volume, or a system disk from an image." }}
      />
      {creating ? <VolumeCreateDialog tenant={tenant} onClose={() => setCreating(false)} /> : null}
      {viewing ? <VolumeDetailDialog tenant={tenant} id={viewing} onClose={() => setViewing(null)} /> : null}
      {resizing ? <VolumeResizeDialog tenant={tenant} volume={resizing} onClose={() => setResizing(null)} /> : null}
      {snapshotting ? <VolumeSnapshotDialog tenant={tenant} volume={snapshotting} onClose={() => setSnapshotting(null)} /> : null}
      <ConfirmAction
        of={del}
        title={(v) => `Delete volume ${v.name}?`}
        body={() => <p>The volume and its snapshots are removed from storage for good. This cannot be undone.</p>}
        confirmLabel="Delete volume"
      />
    </div>
  );
}
