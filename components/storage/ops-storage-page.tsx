"use client";
// Operator storage: capacity (raw / used / provisioned thin) by disk pool and logical pool, storage nodes and disks
// with health, disk/logical pool create/edit/delete (the service's refusal — e.g. "still holds 3 volumes" — is
// shown as is), every tenant's volumes with filters and a detail view (targets, attachments), and the targets list.
import { TableHead } from "@/components/ui/table-head";
import { useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { errorInfo, useTRPC } from "@/components/trpc";
import { Button } from "@/components/ui/button";
import { DataTable } from "@/components/ui/data-table";
import { FormError, Options } from "@/components/ui/form";
import { ConfirmAction, columns, useConfirmAction, useListTable } from "@/components/ui/list-table";
import { EmptyState, PageHeader } from "@/components/ui/page";
import { useDebounced } from "@/components/ui/use-cursor-pages";
import type { DiskPool, LogicalPool, Redundancy } from "./pool-types";
import { operatorCan, reasonOf } from "@/domain/roles";
import { DiskPoolCreateDialog } from "./disk-pool-create";
import { DiskPoolRenameDialog } from "./disk-pool-rename";
import { LogicalPoolEditDialog } from "./logical-pool-edit";
import { formatBytes, inputCls, StateBadge } from "./shared";
import { StorageVolumeDetailDialog } from "./storage-volume-detail";

const lpCol = columns<LogicalPool>();
const dpCol = columns<DiskPool>();
const volCol = columns<OpsVolumeRow>();

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
  const me = useQuery(trpc.session.me.queryOptions());
  const changeReason = me.data ? reasonOf(operatorCan.change(me.data.platformRole)) : "Loading your permissions…";
  const ov = useQuery(trpc.storage.overview.queryOptions());
  const [lpDialog, setLpDialog] = useState<LogicalPool | "new" | null>(null);
  const [dpDialog, setDpDialog] = useState(false);
  const [renaming, setRenaming] = useState<DiskPool | null>(null);
  const deleteOf = {
    vars: (p: { id: string; name: string }) => ({ id: p.id }),
    success: (p: { name: string }) => `Pool ${p.name} deleted.`,
    invalidate: trpc.storage.pathFilter(),
  };
  const delLp = useConfirmAction({ mutation: (o) => trpc.storage.deleteLogicalPool.mutationOptions(o), ...deleteOf });
  const delDp = useConfirmAction({ mutation: (o) => trpc.storage.deleteDiskPool.mutationOptions(o), ...deleteOf });

  if (ov.error)
    return (
      <div>
        <PageHeader title="Storage" />
        <FormError message={errorInfo(ov.error).message} />
      </div>
    );
  const d = ov.data;
  const dpName = (id: string) => d?.diskPools.find((p) => p.id === id)?.name ?? id;

  const lpColumns = [
    lpCol.text("name", "Name", (p) => p.name),
    lpCol.cell("diskPool", "Disk pool", (p) => dpName(p.diskPoolId)),
    lpCol.cell("redundancy", "Redundancy", (p) => redundancyText(p.redundancy)),
    lpCol.cell("thin", "Provisioning", (p) => (p.thinProvisioned ? `thin, ×${p.overcommitRatio}` : "thick")),
    lpCol.cell("usable", "Usable", (p) => formatBytes(p.usableBytes)),
    lpCol.cell("used", "Used", (p) => formatBytes(p.usedBytes)),
    lpCol.cell("provisioned", "Provisioned", (p) => `${formatBytes(p.provisionedBytes)} of ${formatBytes(p.provisionLimitBytes)}`),
    lpCol.cell("volumes", "Volumes", (p) => p.volumeCount),
    lpCol.actions((p) => (
      <>
        <Button size="sm" aria-label={`Edit logical pool ${p.name}`} disabledReason={changeReason} onClick={() => setLpDialog(p)}>
          Edit
        </Button>
        <Button size="sm" variant="danger" aria-label={`Delete logical pool ${p.name}`} disabledReason={changeReason} onClick={() => delLp.ask(p)}>
          Delete
        </Button>
      </>
    )),
  ];
  const dpColumns = [
    dpCol.text("name", "Name", (p) => p.name),
    dpCol.cell("disks", "Disks", (p) => `${p.diskIds.length} on ${p.nodeIds.length} node(s)`),
    dpCol.cell("capacity", "Raw capacity", (p) => formatBytes(p.capacityBytes)),
    dpCol.cell("allocated", "Allocated", (p) => formatBytes(p.allocatedRawBytes)),
    dpCol.cell("free", "Free", (p) => formatBytes(p.freeRawBytes)),
    dpCol.cell("health", "Health", (p) => <StateBadge state={p.health} />),
    dpCol.actions((p) => (
      <>
        <Button size="sm" aria-label={`Rename disk pool ${p.name}`} disabledReason={changeReason} onClick={() => setRenaming(p)}>
          Rename
        </Button>
        <Button size="sm" variant="danger" aria-label={`Delete disk pool ${p.name}`} disabledReason={changeReason} onClick={() => delDp.ask(p)}>
          Delete
        </Button>
      </>
    )),
  ];

  return (
    <div className="flex flex-col gap-8">
      <PageHeader
        title="Storage"
        description="The distributed storage behind every cloud disk: capacity, pools, storage nodes and disks, volumes and targets."
        buttons={[
          { label: "Create disk pool", disabledReason: changeReason, onClick: () => setDpDialog(true) },
          { label: "Create logical pool", variant: "primary", disabledReason: changeReason, onClick: () => setLpDialog("new") },
        ]}
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
        <DataTable
          label="Logical pools"
          columns={lpColumns}
          rows={d?.logicalPools ?? []}
          loading={ov.isFetching}
          empty={<EmptyState title="No logical pools" body="Create one on a disk pool." />}
        />
      </section>
      <section>
        <h2 className="mb-2 text-lg font-semibold">Disk pools</h2>
        <DataTable
          label="Disk pools"
          columns={dpColumns}
          rows={d?.diskPools ?? []}
          loading={ov.isFetching}
          empty={<EmptyState title="No disk pools" body="Group physical disks into a disk pool first." />}
        />
      </section>
      <section>
        <h2 className="mb-2 text-lg font-semibold">Storage nodes</h2>
        <table aria-label="Storage nodes" className="w-full text-left text-sm">
          <TableHead columns={["Node", "Address", "Health", "Disks"]} tone="muted" first="py-1" />
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
                      <span
                        key={disk.id}
                        title={`${disk.name}: ${disk.media}, ${formatBytes(disk.sizeBytes)}, ${disk.health}${disk.diskPoolId ? `, pool ${dpName(disk.diskPoolId)}` : ", unassigned"}`}
                      >
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
      {lpDialog ? <LogicalPoolEditDialog pool={lpDialog === "new" ? null : lpDialog} diskPools={d?.diskPools ?? []} onClose={() => setLpDialog(null)} /> : null}
      {renaming ? <DiskPoolRenameDialog pool={renaming} onClose={() => setRenaming(null)} /> : null}
      {dpDialog ? <DiskPoolCreateDialog disks={(d?.disks ?? []).filter((x) => x.diskPoolId === null)} onClose={() => setDpDialog(false)} /> : null}
      {(
        [
          [delLp, "logical"],
          [delDp, "disk"],
        ] as const
      ).map(([del, kind]) => (
        <ConfirmAction
          key={kind}
          of={del}
          title={(p) => `Delete ${kind} pool ${p.name}?`}
          body={() => <p>The storage service refuses while the pool is in use and says why.</p>}
          confirmLabel="Delete pool"
        />
      ))}
    </div>
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
  const list = useListTable(
    (cursor) =>
      trpc.storage.volumes.queryOptions({
        tenant: dt || undefined,
        logicalPoolId: pool || undefined,
        state: (state || undefined) as "available" | undefined,
        attached: attached === "" ? undefined : attached === "yes",
        cursor,
      }),
    { resetKey: [dt, pool, state, attached] },
  );
  const [open, setOpen] = useState<string | null>(null);
  const poolName = (id: string) => logicalPools.find((p) => p.id === id)?.name ?? id;
  const cols = [
    volCol.cell("name", "Volume", (v) => (
      <button type="button" className="font-medium text-sky-700 hover:underline dark:text-sky-400" onClick={() => setOpen(v.id)}>
        {v.name}
      </button>
    )),
    volCol.cell("tenant", "Tenant", (v) => v.tenantSlug),
    volCol.cell("size", "Size", (v) => `${v.sizeGiB} GiB`),
    volCol.cell("kind", "Kind", (v) => v.kind),
    volCol.cell("pool", "Logical pool", (v) => poolName(v.logicalPoolId)),
    volCol.cell("image", "Image", (v) => v.sourceImageName ?? "—"),
    volCol.cell("state", "State", (v) => <StateBadge state={v.state} />),
    volCol.cell("attached", "Attachments", (v) => v.attachments),
  ];
  return (
    <section>
      <h2 className="mb-2 text-lg font-semibold">Volumes (all tenants)</h2>
      <div className="mb-3 flex flex-wrap gap-2">
        <input aria-label="Tenant (slug)" placeholder="Tenant (slug)" value={tenant} onChange={(e) => setTenant(e.target.value)} className={inputCls} />
        <select aria-label="Logical pool" value={pool} onChange={(e) => setPool(e.target.value)} className={inputCls}>
          <option value="">Any pool</option>
          <Options of={logicalPools} value={(p) => p.id} label={(p) => p.name} />
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
      <DataTable label="All volumes" columns={cols} {...list.table} empty={<EmptyState title="No volumes match" />} />
      {open ? <StorageVolumeDetailDialog id={open} onClose={() => setOpen(null)} /> : null}
    </section>
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
          <TableHead columns={["NQN / IQN", "Protocol", "Portal", "Exported to", "Volume"]} tone="muted" first="py-1" />
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
