"use client";
// One instance: state (with the reason when failed), address (and IPv6 address on a dual-stack subnet) and MAC, pool and image, its volumes, the latest
// operation's live progress (polled every second while anything is under way — no reload), and the actions its state
// allows: start, stop (graceful; forced after a timeout, or at once with "force"), reboot, console, attach / detach
// data volumes, add / move / remove NICs (the Network section lists every NIC: MAC, subnet, addresses, groups), backup to an
// image, rebuild, rescue, delete. Each action that can hurt asks first, naming the instance.
import { TableHead } from "@/components/ui/table-head";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import Link from "next/link";
import { useRouter } from "next/navigation";
import { useState } from "react";
import { OperationProgress, type Operation } from "@/components/operations/operation-progress";
import { errorInfo, useTRPC } from "@/components/trpc";
import { ActionButtons, Button } from "@/components/ui/button";
import { ConfirmDialog } from "@/components/ui/dialog";
import { PageHeader } from "@/components/ui/page";
import { useToast } from "@/components/ui/toast";
import { InstanceAttachDialog } from "./instance-attach";
import { InstanceBackupDialog } from "./instance-backup";
import { InstanceNicDialog, type MovedNic } from "./instance-nic-dialog";
import { InstanceRebuildDialog } from "./instance-rebuild";
import { InstanceRescue } from "./instance-rescue";
import { InstanceStateBadge, TRANSITIONAL } from "./instances-page";
import { RulesApplied, rulesStatusRefetch } from "@/components/network/rules-applied";

type Confirm = { kind: "delete" | "stop-force" | "rebuild" | "remove-nic"; imageId?: string; nic?: { portId: string; name: string } } | null;

/** One fact about the instance: its name, then its value. */
function Fact({ label, children }: { label: string; children: React.ReactNode }) {
  return (
    <div>
      <span className="text-zinc-500">{label} </span>
      {children}
    </div>
  );
}

export function InstanceDetail({ tenant, id }: { tenant: string; id: string }) {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const toast = useToast();
  const router = useRouter();
  const q = useQuery({
    ...trpc.instances.get.queryOptions({ tenant, id }),
    refetchInterval: (query) => {
      const d = query.state.data;
      return d && (TRANSITIONAL.has(d.state) || d.operation?.status === "running" || d.operation?.status === "pending" || d.operation?.status === "cancelling")
        ? 1000
        : 10_000;
    },
  });
  const rules = useQuery({ ...trpc.instances.rulesStatus.queryOptions({ tenant, id }), refetchInterval: rulesStatusRefetch });
  const busy = q.data?.operation?.status === "running" || q.data?.operation?.status === "pending";
  const nics = useQuery({ ...trpc.instances.nics.queryOptions({ tenant, id }), refetchInterval: busy ? 1000 : 10_000 });
  const fips = useQuery(trpc.floatingIps.list.queryOptions({ tenant, instanceId: id, limit: 20 }));
  const [addingNic, setAddingNic] = useState(false);
  const [movingNic, setMovingNic] = useState<MovedNic | null>(null);
  const [confirm, setConfirm] = useState<Confirm>(null);
  const [attaching, setAttaching] = useState(false);
  const [backingUp, setBackingUp] = useState(false);
  const [rebuilding, setRebuilding] = useState(false);
  const refresh = () => qc.invalidateQueries(trpc.instances.pathFilter());
  const onError = (e: unknown) => toast("error", errorInfo(e).message);
  const started = (what: string) => async () => {
    toast("success", what);
    setConfirm(null);
    await refresh();
  };
  const start = useMutation(trpc.instances.start.mutationOptions({ onSuccess: started("Starting."), onError }));
  const stop = useMutation(trpc.instances.stop.mutationOptions({ onSuccess: started("Stopping."), onError }));
  const reboot = useMutation(trpc.instances.reboot.mutationOptions({ onSuccess: started("Rebooting."), onError }));
  const del = useMutation(
    trpc.instances.delete.mutationOptions({ onSuccess: started("Deleting: the host goes back to the pool and the system disk is deleted."), onError }),
  );
  const detach = useMutation(trpc.instances.detachVolume.mutationOptions({ onSuccess: started("Detaching the volume."), onError }));
  const rebuild = useMutation(trpc.instances.rebuild.mutationOptions({ onSuccess: started("Rebuilding."), onError }));
  const removeNic = useMutation(trpc.instances.removeNic.mutationOptions({ onSuccess: started("Removing the NIC."), onError }));

  if (q.error) {
    return (
      <div>
        <PageHeader title="Instance" />
        <p role="alert" className="text-sm text-red-700 dark:text-red-300">
          {errorInfo(q.error).message}
        </p>
      </div>
    );
  }
  const i = q.data;
  if (!i) return <p className="text-sm text-zinc-500">Loading…</p>;
  const a = i.allowed;
  const reason = (v: { ok: boolean; reason?: string }) => (v.ok ? null : (v.reason ?? "Not possible now."));
  const deleted = i.state === "deleted";

  return (
    <div className="flex flex-col gap-6">
      <PageHeader
        title={i.name}
        description={i.description || undefined}
        actions={
          deleted ? null : (
            <>
              <Button onClick={() => start.mutate({ tenant, id })} disabledReason={reason(a.start)} busy={start.isPending}>
                Start
              </Button>
              <Button onClick={() => stop.mutate({ tenant, id })} disabledReason={reason(a.stop)} busy={stop.isPending}>
                Stop
              </Button>
              <Button onClick={() => setConfirm({ kind: "stop-force" })} disabledReason={reason(a.stop)}>
                Force stop
              </Button>
              <Button onClick={() => reboot.mutate({ tenant, id })} disabledReason={reason(a.reboot)} busy={reboot.isPending}>
                Reboot
              </Button>
              {i.placed ? (
                <Link
                  href={`/t/${encodeURIComponent(tenant)}/instances/${i.id}/console`}
                  className="inline-flex items-center rounded-md border border-zinc-300 px-3 py-1.5 text-sm hover:bg-zinc-50 dark:border-zinc-700 dark:hover:bg-zinc-800"
                >
                  Console
                </Link>
              ) : null}
              <Button variant="danger" onClick={() => setConfirm({ kind: "delete" })} disabledReason={reason(a.delete)}>
                Delete
              </Button>
            </>
          )
        }
      />

      <section aria-label="Instance details" className="grid gap-x-8 gap-y-2 text-sm sm:grid-cols-2">
        <div className="flex items-center gap-2">
          <span className="text-zinc-500">State</span>
          <InstanceStateBadge state={i.state} reason={i.stateReason} />
        </div>
        <Fact label="Address">
          <span className="font-mono" data-testid="instance-address">
            {i.address ?? "—"}
          </span>
          {i.ipv6Address ? (
            <span className="ml-3 font-mono" data-testid="instance-ipv6-address">
              {i.ipv6Address}
            </span>
          ) : null}
        </Fact>
        <Fact label="Floating IP">
          <span className="font-mono" data-testid="instance-floating-ip">
            {fips.data?.items.length ? fips.data.items.map((f) => `${f.address} → ${f.fixedIp}`).join(", ") : "—"}
          </span>
        </Fact>
        <Fact label="MAC">
          <span className="font-mono">{i.mac ?? "—"}</span>
        </Fact>
        <Fact label="Subnet">{i.subnetName ?? "—"}</Fact>
        {i.placed ? (
          <Fact label="Security rules">
            <RulesApplied status={rules.data} label="Security rules enforcement" />
          </Fact>
        ) : null}
        <Fact label="Pool">{i.poolName}</Fact>
        <Fact label="Image">{i.imageName ?? "—"}</Fact>
        <Fact label="If the host fails">{i.recoveryPolicy === "reprovision" ? "recover automatically on a spare host" : "an operator recovers it"}</Fact>
        <Fact label="Created">{new Date(i.createdAt).toLocaleString()}</Fact>
        {i.stateReason ? (
          <p
            role="status"
            className="sm:col-span-2 rounded-md border border-amber-300 bg-amber-50 px-3 py-2 text-amber-900 dark:border-amber-800 dark:bg-amber-950 dark:text-amber-100"
          >
            {i.stateReason}
          </p>
        ) : null}
      </section>

      {i.operation ? (
        <section aria-label="Latest operation" className="rounded-lg border border-zinc-200 p-4 dark:border-zinc-800">
          <OperationProgress operation={{ ...i.operation, targetName: i.name } as unknown as Operation} />
        </section>
      ) : null}

      <section aria-label="Network" className="flex flex-col gap-2">
        <div className="flex items-center justify-between">
          <h2 className="text-lg font-semibold">Network</h2>
          {deleted ? null : <ActionButtons size="sm" actions={[{ label: "Add NIC", disabledReason: reason(a.attach), onClick: () => setAddingNic(true) }]} />}
        </div>
        <table aria-label="NICs" className="w-full text-left text-sm">
          <TableHead columns={["NIC", "MAC", "Subnet", "Address", "Security groups", ""]} tone="muted" first="py-1" />
          <tbody>
            {(nics.data ?? []).map((n) => (
              <tr key={n.portId} className="border-t border-zinc-200 dark:border-zinc-800">
                <td className="py-1.5">
                  eth{n.index}
                  {n.index === 0 ? " · primary" : ""}
                  {n.bound ? "" : " · not on the DPU"}
                </td>
                <td className="font-mono">{n.mac}</td>
                <td>
                  {n.vpcName} / {n.subnetName}
                </td>
                <td className="font-mono">
                  {n.address ?? "—"}
                  {n.ipv6Address ? <span className="block text-xs">{n.ipv6Address}</span> : null}
                </td>
                <td>{n.groups.map((g) => g.name).join(", ") || "—"}</td>
                <td className="text-right">
                  {deleted ? null : (
                    <ActionButtons
                      size="sm"
                      actions={[
                        {
                          label: "Move",
                          name: `Move NIC eth${n.index}`,
                          disabledReason: reason(a.attach),
                          onClick: () => setMovingNic({ portId: n.portId, name: `eth${n.index}`, subnetId: n.subnetId }),
                        },
                        {
                          label: "Remove",
                          name: `Remove NIC eth${n.index}`,
                          disabledReason: n.index === 0 ? "The primary NIC cannot be removed." : reason(a.attach),
                          onClick: () => setConfirm({ kind: "remove-nic", nic: { portId: n.portId, name: `eth${n.index}` } }),
                        },
                      ]}
                    />
                  )}
                </td>
              </tr>
            ))}
            {nics.data && nics.data.length === 0 ? (
              <tr>
                <td colSpan={6} className="py-2 text-zinc-500">
                  No NICs yet (the create workflow adds the primary one).
                </td>
              </tr>
            ) : null}
          </tbody>
        </table>
      </section>

      <section aria-label="Volumes" className="flex flex-col gap-2">
        <div className="flex items-center justify-between">
          <h2 className="text-lg font-semibold">Volumes</h2>
          {deleted ? null : (
            <div className="flex gap-2">
              <ActionButtons
                size="sm"
                actions={[
                  { label: "Attach volume", disabledReason: reason(a.attach), onClick: () => setAttaching(true) },
                  { label: "Back up", disabledReason: reason(a.backup), onClick: () => setBackingUp(true) },
                  { label: "Rebuild", disabledReason: reason(a.rebuild), onClick: () => setRebuilding(true) },
                ]}
              />
            </div>
          )}
        </div>
        <table aria-label="Attached volumes" className="w-full text-left text-sm">
          <TableHead columns={["Name", "Kind", "Size", ""]} tone="muted" first="py-1" />
          <tbody>
            {i.volumes.map((v) => (
              <tr key={v.id} className="border-t border-zinc-200 dark:border-zinc-800">
                <td className="py-1.5">{v.name}</td>
                <td>
                  {v.kind}
                  {v.multiAttach ? " · multi-attach" : ""}
                </td>
                <td className="tabular-nums">{v.sizeGiB} GiB</td>
                <td className="text-right">
                  {v.kind === "data" && !deleted ? (
                    <ActionButtons
                      size="sm"
                      actions={[
                        {
                          label: "Detach",
                          name: `Detach volume ${v.name}`,
                          disabledReason: reason(a.attach),
                          busy: detach.isPending,
                          onClick: () => detach.mutate({ tenant, id, volumeId: v.id }),
                        },
                      ]}
                    />
                  ) : null}
                </td>
              </tr>
            ))}
            {i.volumes.length === 0 ? (
              <tr>
                <td colSpan={4} className="py-2 text-zinc-500">
                  No volumes.
                </td>
              </tr>
            ) : null}
          </tbody>
        </table>
      </section>

      {deleted ? null : (
        <InstanceRescue
          tenant={tenant}
          id={id}
          name={i.name}
          state={i.state}
          allowed={a}
          systemDisk={i.volumes.find((v) => v.kind === "system")?.name ?? null}
        />
      )}

      <ConfirmDialog
        open={confirm?.kind === "delete"}
        title={`Delete instance ${i.name}?`}
        body={
          <p>
            The server is powered off, its system disk is deleted (data volumes are kept and detached), its address is released and the host goes back to the
            pool. This cannot be undone.
          </p>
        }
        confirmLabel="Delete instance"
        busy={del.isPending}
        onConfirm={() => del.mutate({ tenant, id }, { onSuccess: () => router.push(`/t/${encodeURIComponent(tenant)}/instances`) })}
        onClose={() => setConfirm(null)}
      />
      <ConfirmDialog
        open={confirm?.kind === "stop-force"}
        title={`Force ${i.name} off?`}
        body={<p>Power is cut at once, like pulling the plug: unsaved data in the OS is lost. A normal stop asks the OS to shut down first.</p>}
        confirmLabel="Force stop"
        busy={stop.isPending}
        onConfirm={() => stop.mutate({ tenant, id, force: true })}
        onClose={() => setConfirm(null)}
      />
      <ConfirmDialog
        open={confirm?.kind === "rebuild"}
        title={`Rebuild ${i.name}?`}
        body={
          <p>
            The server gets a new system disk from the image and boots it; everything on the current system disk is lost. The address, MAC and data volumes
            stay.
          </p>
        }
        confirmLabel="Rebuild"
        busy={rebuild.isPending}
        onConfirm={() => confirm?.imageId && rebuild.mutate({ tenant, id, imageId: confirm.imageId })}
        onClose={() => setConfirm(null)}
      />
      <ConfirmDialog
        open={confirm?.kind === "remove-nic"}
        title={`Remove ${confirm?.nic?.name ?? "the NIC"} from ${i.name}?`}
        body={<p>The NIC disappears from the running server and its address is released (another port may get it). The other NICs stay as they are.</p>}
        confirmLabel="Remove NIC"
        busy={removeNic.isPending}
        onConfirm={() => confirm?.nic && removeNic.mutate({ tenant, id, portId: confirm.nic.portId })}
        onClose={() => setConfirm(null)}
      />
      {addingNic ? <InstanceNicDialog tenant={tenant} id={id} name={i.name} onClose={() => setAddingNic(false)} /> : null}
      {movingNic ? <InstanceNicDialog tenant={tenant} id={id} name={i.name} move={movingNic} onClose={() => setMovingNic(null)} /> : null}
      {attaching ? <InstanceAttachDialog tenant={tenant} id={id} name={i.name} onClose={() => setAttaching(false)} /> : null}
      {backingUp ? <InstanceBackupDialog tenant={tenant} id={id} name={i.name} onClose={() => setBackingUp(false)} /> : null}
      {rebuilding ? (
        <InstanceRebuildDialog
          tenant={tenant}
          name={i.name}
          onClose={() => setRebuilding(false)}
          onPick={(imageId) => {
            setRebuilding(false);
            setConfirm({ kind: "rebuild", imageId });
          }}
        />
      ) : null}
    </div>
  );
}
