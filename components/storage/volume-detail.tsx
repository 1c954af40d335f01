"use client";
// One volume's facts in a dialog: size, kind, source, state, attachments, snapshots, and why it can't be deleted.
import { useQuery } from "@tanstack/react-query";
import { errorInfo, useTRPC } from "@/components/trpc";
import { Button } from "@/components/ui/button";
import { Dialog } from "@/components/ui/dialog";
import { FormError } from "@/components/ui/form";
import { StateBadge } from "./shared";

export function VolumeDetailDialog({ tenant, id, onClose }: { tenant: string; id: string; onClose: () => void }) {
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
