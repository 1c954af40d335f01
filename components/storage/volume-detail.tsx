"use client";
// One volume's facts in a dialog: size, kind, source, state, attachments, snapshots, and why it can't be deleted.
import { useQuery } from "@tanstack/react-query";
import { Pairs } from "@/components/ui/pairs";
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
          <Pairs
            pairs={[
              ["Size", `${v.sizeGiB} GiB`],
              ["Kind", v.kind],
              ["Source", v.sourceImageName ? `image ${v.sourceImageName}` : v.sourceSnapshotName ? `snapshot ${v.sourceSnapshotName}` : "blank"],
              ["State", <StateBadge key="state" state={v.attachments > 0 ? "attached" : v.state} />],
              ["Multi-attach", v.multiAttach ? "yes" : "no"],
              ["Attachments", v.attachments],
              ["Snapshots", v.snapshots.length === 0 ? "none" : v.snapshots.map((s) => s.name).join(", ")],
              ["Created", new Date(v.createdAt).toLocaleString()],
              v.deleteBlocker ? ["Can delete?", v.deleteBlocker] : null,
            ]}
          />
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
