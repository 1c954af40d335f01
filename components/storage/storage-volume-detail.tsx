"use client";
// One volume as the storage service sees it (operator console): usage, parent snapshot, targets, attachments.
import { useQuery } from "@tanstack/react-query";
import { Pairs } from "@/components/ui/pairs";
import { errorInfo, useTRPC } from "@/components/trpc";
import { Button } from "@/components/ui/button";
import { Dialog } from "@/components/ui/dialog";
import { FormError } from "@/components/ui/form";
import { formatBytes } from "./shared";

export function StorageVolumeDetailDialog({ id, onClose }: { id: string; onClose: () => void }) {
  const trpc = useTRPC();
  const q = useQuery(trpc.storage.volume.queryOptions({ id }));
  const v = q.data;
  return (
    <Dialog open onClose={onClose} title={v ? `Volume ${v.name} (${v.tenantSlug})` : "Volume"} wide>
      {q.error ? <FormError message={errorInfo(q.error).message} /> : null}
      {v ? (
        <div className="flex flex-col gap-3 text-sm">
          <dl className="grid grid-cols-2 gap-x-4 gap-y-1">
            <Pairs
              pairs={[
                ["Size", `${v.sizeGiB} GiB`],
                ["Used on storage", v.service ? `${formatBytes(v.service.usedBytes)} own, ${formatBytes(v.service.referencedBytes)} referenced` : "—"],
                ["Storage volume", v.storageVolumeId ?? "—", "font-mono text-xs"],
                ["Parent snapshot", v.service?.sourceSnapshotId ?? "none (stands alone)", "font-mono text-xs"],
                ["Multi-attach", v.multiAttach ? "yes" : "no"],
              ]}
            />
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
