"use client";
// Node detail: status badges, every action (disabled with the lifecycle rule's reason), inventory, BMC facts
// (credentials only as a fingerprint), DPU children with their own power and firmware/OS update, recent events
// and recent operations with live step progress. Polls while visible; a DPU's page links to its host and
// leaves out the host-only lifecycle actions.
import { TableHead } from "@/components/ui/table-head";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import Link from "next/link";
import { useRouter } from "next/navigation";
import { useState } from "react";
import { EventsTable } from "@/components/events/events-table";
import { isFinished, OperationProgress, WatchedOperation } from "@/components/operations/operation-progress";
import { errorInfo, useTRPC } from "@/components/trpc";
import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { ConfirmDialog } from "@/components/ui/dialog";
import { EmptyState } from "@/components/ui/page";
import { useToast } from "@/components/ui/toast";
import { BmcAddress } from "./bmc-address";
import { DpuBmcCredentials } from "./dpu-bmc-credentials";
import { NodeBiosSection } from "./node-bios";
import { NodeTraits } from "./node-traits";
import { BootDeviceDialog, FirmwareUpdateDialog, firmwareOf } from "./node-dialogs";
import { RunStepsDialog } from "./run-steps-dialog";
import { VirtualMediaBootDialog } from "./virtual-media-boot";
import {
  Ago,
  type Allowed,
  FaultBadge,
  HealthBadge,
  LIVE_MS,
  MaintenanceBadge,
  type NodeChild,
  type NodeDetail,
  PowerBadge,
  reasonFor,
  StateBadge,
  useChangeReason,
} from "./node-status";
import { type NodeActionKind, POWER_LABELS, type PowerAction, useNodeActions } from "./use-node-actions";

type Inventory = {
  manufacturer?: string | null;
  model?: string | null;
  serialNumber?: string | null;
  uuid?: string | null;
  bmc?: { manufacturer?: string | null; firmwareVersion?: string | null; protocolVersion?: string | null } | null;
  cpu?: { count?: number; cores?: number | null; model?: string | null } | null;
  memoryGiB?: number | null;
  nics?: { id: string; macAddress: string; linkUp?: boolean; speedMbps?: number }[] | null;
};

const POWER_ORDER: PowerAction[] = ["on", "off", "soft_off", "reboot", "soft_reboot", "power_cycle", "nmi"];

function Section({ title, children, actions }: { title: string; children: React.ReactNode; actions?: React.ReactNode }) {
  return (
    <section aria-label={title} className="rounded-lg border border-zinc-200 p-4 dark:border-zinc-800">
      <div className="mb-3 flex items-center justify-between gap-2">
        <h2 className="text-sm font-semibold tracking-wide text-zinc-600 uppercase dark:text-zinc-400">{title}</h2>
        {actions}
      </div>
      {children}
    </section>
  );
}

function Facts({ rows }: { rows: [string, React.ReactNode][] }) {
  return (
    <dl className="grid grid-cols-[max-content_1fr] gap-x-4 gap-y-1.5 text-sm">
      {rows.map(([k, v]) => (
        <div key={k} className="contents">
          <dt className="text-zinc-500">{k}</dt>
          <dd className="min-w-0 break-words">{v ?? <span className="text-zinc-400">—</span>}</dd>
        </div>
      ))}
    </dl>
  );
}

export function NodeDetailPage({ id }: { id: string }) {
  const trpc = useTRPC();
  const q = useQuery({ ...trpc.nodes.get.queryOptions({ id }), refetchInterval: LIVE_MS });
  if (q.error) {
    const info = errorInfo(q.error);
    return (
      <EmptyState
        title={info.code === "NOT_FOUND" ? "Node not found" : "Could not load the node"}
        body={info.message}
        action={
          <Link href="/ops/nodes" className="text-sm text-sky-700 underline dark:text-sky-400">
            Back to nodes
          </Link>
        }
      />
    );
  }
  if (!q.data) return <p className="text-sm text-zinc-500">Loading node…</p>;
  // Keyed by node: another node's page (a link from a dialog) starts with its own dialogs closed.
  return <NodeView key={q.data.id} n={q.data} />;
}

function NodeView({ n }: { n: NodeDetail }) {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const toast = useToast();
  const router = useRouter();
  const changeReason = useChangeReason();
  const actions = useNodeActions({ report: "toast" });
  const [dialog, setDialog] = useState<"boot" | "iso" | "steps" | "delete" | null>(null);
  const [fwFor, setFwFor] = useState<{ id: string; name: string; inventory: unknown; host?: boolean } | null>(null);
  const [watching, setWatching] = useState<string[]>([]);
  const isDpu = n.kind === "dpu";
  const inv = (n.inventory ?? {}) as Inventory;
  const why = (a: string) => changeReason ?? reasonFor(n.allowed, a);
  const self = [{ id: n.id, name: n.name }];
  const run = (a: NodeActionKind) => actions.run(a, self);
  const isPending = (a: NodeActionKind) => actions.busy && JSON.stringify(actions.pending?.action) === JSON.stringify(a);

  const del = useMutation(
    trpc.nodes.delete.mutationOptions({
      onSuccess: async (r) => {
        toast("success", `Node ${n.name} deleted${r.deletedChildren ? ` with ${r.deletedChildren} DPU(s)` : ""}.`);
        await qc.invalidateQueries(trpc.nodes.pathFilter());
        router.push("/ops/nodes");
      },
      onError: (e) => toast("error", errorInfo(e).message),
    }),
  );

  const lifecycle: { label: string; action: NodeActionKind; key: string }[] = [
    { label: "Manage", action: { kind: "transition", event: "manage" }, key: "manage" },
    { label: "Inspect", action: { kind: "inspect" }, key: "inspect" },
    { label: "Provide", action: { kind: "transition", event: "provide" }, key: "provide" },
    { label: "Abort", action: { kind: "transition", event: "abort" }, key: "abort" },
  ];
  const shownOps = [...n.operations];
  for (const w of watching) if (!shownOps.some((o) => o.id === w)) shownOps.unshift({ id: w } as (typeof shownOps)[number]);

  return (
    <div className="flex flex-col gap-5">
      <section aria-label={`Status of ${n.name}`}>
        <nav aria-label="Breadcrumb" className="mb-1 text-sm text-zinc-500">
          <Link href={isDpu ? "/ops/dpus" : "/ops/nodes"} className="hover:underline">
            {isDpu ? "DPUs" : "Nodes"}
          </Link>
          {n.parent ? (
            <>
              {" / "}
              <Link href={`/ops/nodes/${n.parent.id}`} className="text-sky-700 hover:underline dark:text-sky-400">
                {n.parent.name}
              </Link>
            </>
          ) : null}
        </nav>
        <div className="flex flex-wrap items-center gap-2">
          <h1 className="text-2xl font-semibold tracking-tight">{n.name}</h1>
          <Badge tone="zinc">{isDpu ? "DPU" : "host"}</Badge>
          <StateBadge state={n.provisionState} />
          <PowerBadge power={n.powerState} />
          <HealthBadge health={n.health} />
          <MaintenanceBadge on={n.maintenance} reason={n.maintenanceReason} />
          <FaultBadge fault={n.fault} />
          <Link href={`/ops/nodes/${n.id}/console`} className="ml-auto text-sm text-sky-700 hover:underline dark:text-sky-400">
            Serial console
          </Link>
        </div>
        {n.fault ? (
          <p
            role="alert"
            className="mt-2 rounded-md border border-red-300 bg-red-50 px-3 py-2 text-sm text-red-800 dark:border-red-800 dark:bg-red-950 dark:text-red-200"
          >
            Fault: {n.fault}
          </p>
        ) : null}
        {n.maintenance ? <p className="mt-2 text-sm text-amber-800 dark:text-amber-200">In maintenance: {n.maintenanceReason}</p> : null}
        {n.lastError ? <p className="mt-2 text-sm text-red-700 dark:text-red-300">Last error: {n.lastError}</p> : null}
        {isDpu && n.parent ? (
          <p className="mt-2 text-sm text-zinc-600 dark:text-zinc-400">
            This DPU follows its host's lifecycle, pool and deletion; those actions are on{" "}
            <Link href={`/ops/nodes/${n.parent.id}`} className="text-sky-700 underline dark:text-sky-400">
              {n.parent.name}
            </Link>{" "}
            (host power: {n.parent.powerState}).
          </p>
        ) : null}
      </section>

      <Section title="Actions">
        <div className="flex flex-col gap-3">
          {!isDpu ? (
            <fieldset className="flex flex-wrap gap-2">
              <legend className="sr-only">Lifecycle</legend>
              {lifecycle.map((l) => (
                <Button key={l.key} size="sm" disabledReason={why(l.key)} busy={isPending(l.action)} onClick={() => run(l.action)}>
                  {l.label}
                </Button>
              ))}
            </fieldset>
          ) : null}
          <fieldset className="flex flex-wrap gap-2">
            <legend className="sr-only">Power</legend>
            {POWER_ORDER.map((p) => (
              <Button
                key={p}
                size="sm"
                variant={p === "off" ? "danger" : "secondary"}
                disabledReason={why(`power.${p}`)}
                busy={isPending({ kind: "power", action: p })}
                onClick={() => run({ kind: "power", action: p })}
              >
                {POWER_LABELS[p]}
              </Button>
            ))}
          </fieldset>
          <fieldset className="flex flex-wrap gap-2">
            <legend className="sr-only">Management</legend>
            <Button size="sm" disabledReason={why("setBootDevice")} onClick={() => setDialog("boot")}>
              Set boot device
            </Button>
            {n.maintenance ? (
              <Button
                size="sm"
                disabledReason={why("maintenanceOff")}
                busy={isPending({ kind: "maintenanceOff" })}
                onClick={() => run({ kind: "maintenanceOff" })}
              >
                Maintenance off
              </Button>
            ) : (
              <Button size="sm" disabledReason={why("maintenanceOn")} onClick={() => run({ kind: "maintenanceOn" })}>
                Maintenance on
              </Button>
            )}
            <Button size="sm" disabledReason={why("firmwareUpdate")} onClick={() => setFwFor({ id: n.id, name: n.name, inventory: n.inventory, host: !isDpu })}>
              {isDpu ? "Update firmware/OS" : "Update firmware"}
            </Button>
            {isDpu ? null : (
              <>
                <Button size="sm" disabledReason={why("virtualMediaBoot")} onClick={() => setDialog("iso")}>
                  Boot from ISO
                </Button>
                <Button size="sm" disabledReason={changeReason} onClick={() => setDialog("steps")}>
                  Run steps
                </Button>
                <Button size="sm" disabledReason={why("moveToPool")} onClick={() => run({ kind: "moveToPool" })}>
                  Move to pool
                </Button>
                <Button size="sm" variant="danger" disabledReason={why("delete")} onClick={() => setDialog("delete")}>
                  Delete
                </Button>
              </>
            )}
          </fieldset>
        </div>
      </Section>

      <div className="grid grid-cols-1 gap-5 lg:grid-cols-2">
        <Section title="Inventory">
          {n.inspectedAt ? (
            <Facts
              rows={[
                ["Manufacturer", inv.manufacturer],
                ["Model", inv.model],
                ["Serial number", inv.serialNumber],
                ["CPU", inv.cpu ? `${inv.cpu.count ?? "?"} × ${inv.cpu.model ?? "CPU"}${inv.cpu.cores ? ` (${inv.cpu.cores} cores)` : ""}` : null],
                ["Memory", typeof inv.memoryGiB === "number" ? `${inv.memoryGiB} GiB` : null],
                [
                  "BMC firmware",
                  inv.bmc?.firmwareVersion ? `${inv.bmc.firmwareVersion}${inv.bmc.protocolVersion ? ` (protocol ${inv.bmc.protocolVersion})` : ""}` : null,
                ],
                [
                  "NICs",
                  inv.nics?.length ? (
                    <ul key="nics" className="flex flex-col gap-0.5">
                      {inv.nics.map((nic) => (
                        <li key={nic.id} className="font-mono text-xs">
                          {nic.id} · {nic.macAddress}
                          {nic.speedMbps ? ` · ${nic.speedMbps / 1000} Gb/s` : ""}
                          {nic.linkUp === false ? " · link down" : ""}
                        </li>
                      ))}
                    </ul>
                  ) : null,
                ],
                // A host's own firmware (BMC, BIOS, NICs) as inspection read it; a DPU's shows with its BMC below.
                ...(isDpu ? [] : ([["Firmware", <FirmwareList key="fw" inventory={n.inventory} />]] as [string, React.ReactNode][])),
                ["Inspected", <Ago key="i" at={n.inspectedAt} />],
              ]}
            />
          ) : (
            <p className="text-sm text-zinc-500">
              {isDpu ? "Not inspected yet; inspect the host." : "Not inspected yet. Inspect reads CPU, memory, NICs and DPUs through the BMC."}
            </p>
          )}
        </Section>
        <Section title="BMC">
          <Facts
            rows={[
              ["Driver", n.bmcDriver],
              ["Address", <BmcAddress key="a" node={n} hostName={n.parent?.name} />],
              ["Verify TLS", n.bmcVerifyTls ? "yes" : "no"],
              [
                "Credentials",
                isDpu ? (
                  <DpuBmcCredentials key="c" node={n} disabledReason={changeReason} />
                ) : n.bmcCredentialsFingerprint ? (
                  <span key="c">
                    set · fingerprint <code className="text-xs">{n.bmcCredentialsFingerprint}</code>
                  </span>
                ) : (
                  "not set"
                ),
              ],
              ["Last seen", <Ago key="s" at={n.bmcSeenAt} />],
              ["Pool", n.poolName],
              ...(isDpu ? [] : ([["Traits", <NodeTraits key="traits" node={n} changeReason={changeReason} />]] as [string, React.ReactNode][])),
              ...(isDpu
                ? ([
                    [
                      "Agent",
                      n.agentUrl ? (
                        <code key="u" className="text-xs">
                          {n.agentUrl}
                        </code>
                      ) : null,
                    ],
                    ["Agent status", n.agentStatus],
                    [
                      "Underlay (VTEP)",
                      <UnderlayIp
                        key="vtep"
                        node={{ id: n.id, name: n.name, underlayIp: n.underlayIp, underlayIpSource: n.underlayIpSource }}
                        disabledReason={changeReason}
                      />,
                    ],
                    ["Last heartbeat", <Ago key="h" at={n.agentHeartbeatAt} />],
                    ["Firmware", <FirmwareList key="f" inventory={n.inventory} />],
                  ] as [string, React.ReactNode][])
                : []),
            ]}
          />
        </Section>
      </div>

      {!isDpu && n.bmcDriver === "redfish" ? <NodeBiosSection nodeId={n.id} nodeName={n.name} changeReason={changeReason} /> : null}

      {!isDpu ? (
        <Section title="DPUs">
          {n.children.length ? (
            <div className="overflow-x-auto">
              <table aria-label={`DPUs of ${n.name}`} className="w-full text-left text-sm">
                <TableHead columns={["Name", "Power", "Health", "Firmware", "Agent", ""]} tone="plain" cell="py-1.5 pr-4" last="py-1.5" />
                <tbody className="divide-y divide-zinc-100 dark:divide-zinc-800">
                  {n.children.map((c) => (
                    <ChildRow
                      key={c.id}
                      c={c}
                      hostName={n.name}
                      changeReason={changeReason}
                      onPower={(p) => actions.run({ kind: "power", action: p }, [{ id: c.id, name: c.name }])}
                      onFirmware={(inventory) => setFwFor({ id: c.id, name: c.name, inventory })}
                    />
                  ))}
                </tbody>
              </table>
            </div>
          ) : (
            <p className="text-sm text-zinc-500">No DPU found yet. Inspecting the host discovers its DPUs through the BMC.</p>
          )}
        </Section>
      ) : null}

      <Section title="Recent operations">
        {shownOps.length ? (
          <ul className="flex flex-col divide-y divide-zinc-100 dark:divide-zinc-800">
            {shownOps.map((o) => (
              <li key={o.id} className="py-2">
                {"kind" in o && isFinished(o) ? <OperationProgress operation={o} compact={o.status === "succeeded"} /> : <WatchedOperation id={o.id} />}
              </li>
            ))}
          </ul>
        ) : (
          <p className="text-sm text-zinc-500">No operations yet.</p>
        )}
      </Section>

      <Section
        title="Recent events"
        actions={
          <Link href={`/ops/events?node=${n.id}`} className="text-sm text-sky-700 hover:underline dark:text-sky-400">
            All events
          </Link>
        }
      >
        <EventsTable
          label={`Recent events of ${n.name}`}
          rows={n.events.map((e) => ({ ...e, nodeName: n.children.find((c) => c.id === e.nodeId)?.name ?? n.name }))}
          empty="No events yet."
        />
      </Section>

      {dialog === "boot" ? <BootDeviceDialog nodeId={n.id} nodeName={n.name} onClose={() => setDialog(null)} /> : null}
      {dialog === "steps" ? <RunStepsDialog host={n} onClose={() => setDialog(null)} /> : null}
      {dialog === "iso" ? <VirtualMediaBootDialog node={self[0]!} onStarted={(op) => setWatching((w) => [op, ...w])} onClose={() => setDialog(null)} /> : null}
      <ConfirmDialog
        open={dialog === "delete"}
        title={`Delete node ${n.name}?`}
        body={
          <p>
            The node{n.children.length ? ` and its ${n.children.length} DPU(s)` : ""} leave Anvil. The hardware is not touched; enroll it again to manage it.
          </p>
        }
        confirmLabel="Delete node"
        busy={del.isPending}
        onConfirm={() => del.mutate({ id: n.id })}
        onClose={() => setDialog(null)}
      />
      {fwFor ? (
        <FirmwareUpdateDialog
          dpu={fwFor}
          host={fwFor.host}
          inventory={fwFor.inventory}
          onStarted={(op) => setWatching((w) => [op, ...w])}
          onClose={() => setFwFor(null)}
        />
      ) : null}
      {actions.ui}
    </div>
  );
}

function FirmwareList({ inventory }: { inventory: unknown }) {
  const fw = firmwareOf(inventory);
  if (!fw.length) return <span className="text-zinc-400">—</span>;
  return (
    <ul className="flex flex-col gap-0.5 text-xs">
      {fw.map((f) => (
        <li key={f.id}>
          <code>{f.id}</code> {f.version}
        </li>
      ))}
    </ul>
  );
}

/** One DPU of the host. Its firmware versions come from its own detail (the host's `get` leaves children's inventory out). */
function ChildRow({
  c,
  hostName,
  changeReason,
  onPower,
  onFirmware,
}: {
  c: NodeChild;
  hostName: string;
  changeReason: string | null;
  onPower: (p: PowerAction) => void;
  onFirmware: (inventory: unknown) => void;
}) {
  const trpc = useTRPC();
  const d = useQuery({ ...trpc.nodes.get.queryOptions({ id: c.id }), refetchInterval: LIVE_MS * 4 });
  const allowed: Allowed = c.allowed;
  const why = (a: string) => changeReason ?? reasonFor(allowed, a);
  return (
    <tr>
      <td className="py-2 pr-4">
        <Link href={`/ops/nodes/${c.id}`} className="font-medium text-sky-700 hover:underline dark:text-sky-400">
          {c.name}
        </Link>
        <div className="text-xs text-zinc-500">
          <BmcAddress node={c} hostName={hostName} />
        </div>
      </td>
      <td className="py-2 pr-4">
        <PowerBadge power={c.powerState} />
      </td>
      <td className="py-2 pr-4">
        <div className="flex flex-wrap gap-1">
          <HealthBadge health={c.health} />
          <FaultBadge fault={c.fault} />
        </div>
      </td>
      <td className="py-2 pr-4">{d.data ? <FirmwareList inventory={d.data.inventory} /> : <span className="text-xs text-zinc-500">…</span>}</td>
      <td className="py-2 pr-4 text-xs">
        {c.agentStatus ?? "—"}
        <div className="text-zinc-500">
          <Ago at={c.agentHeartbeatAt} />
        </div>
      </td>
      <td className="py-2">
        <div className="flex flex-wrap justify-end gap-1">
          <Button size="sm" aria-label={`Power on ${c.name}`} disabledReason={why("power.on")} onClick={() => onPower("on")}>
            Power on
          </Button>
          <Button size="sm" aria-label={`Power off ${c.name}`} disabledReason={why("power.off")} onClick={() => onPower("off")}>
            Power off
          </Button>
          <Button size="sm" aria-label={`Reboot ${c.name}`} disabledReason={why("power.reboot")} onClick={() => onPower("reboot")}>
            Reboot
          </Button>
          <Button size="sm" aria-label={`Update firmware/OS of ${c.name}`} disabledReason={why("firmwareUpdate")} onClick={() => onFirmware(d.data?.inventory)}>
            Update firmware/OS
          </Button>
        </div>
      </td>
    </tr>
  );
}

/**
 * A DPU's underlay address (the VXLAN tunnel endpoint the other DPUs of a VPC reach it at): as its agent reported it at
 * inspect, or as an operator set it (which wins until cleared). Saving re-sends the overlay to the VNI's DPUs.
 */
function UnderlayIp({
  node,
  disabledReason,
}: {
  node: { id: string; name: string; underlayIp: string | null; underlayIpSource: string | null };
  disabledReason?: string | null;
}) {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const toast = useToast();
  const [draft, setDraft] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const set = useMutation(
    trpc.nodes.setUnderlayIp.mutationOptions({
      onSuccess: async (r) => {
        toast(
          "success",
          r.underlayIp ? `${node.name}: underlay address ${r.underlayIp}.` : `${node.name}: override cleared; the next inspection reads the agent's address.`,
        );
        setDraft(null);
        setError(null);
        await qc.invalidateQueries(trpc.nodes.pathFilter());
      },
      onError: (e) => setError(errorInfo(e).message),
    }),
  );
  const source = node.underlayIpSource === "operator" ? "set by an operator" : node.underlayIpSource === "agent" ? "reported by the agent" : null;
  if (draft === null)
    return (
      <span className="inline-flex flex-wrap items-center gap-2">
        {node.underlayIp ? <code className="text-xs">{node.underlayIp}</code> : <span className="text-zinc-500">not known yet</span>}
        {source ? <span className="text-xs text-zinc-500">({source})</span> : null}
        <Button
          size="sm"
          aria-label={`Set the underlay address of ${node.name}`}
          disabledReason={disabledReason ?? undefined}
          onClick={() => setDraft(node.underlayIp ?? "")}
        >
          Set…
        </Button>
        {node.underlayIpSource === "operator" ? (
          <Button
            size="sm"
            aria-label={`Clear the underlay address override of ${node.name}`}
            disabledReason={disabledReason ?? undefined}
            onClick={() => set.mutate({ id: node.id, underlayIp: null })}
          >
            Use the agent's
          </Button>
        ) : null}
      </span>
    );
  return (
    <form
      className="inline-flex flex-wrap items-center gap-2"
      onSubmit={(e) => {
        e.preventDefault();
        set.mutate({ id: node.id, underlayIp: draft.trim() || null });
      }}
    >
      <label className="sr-only" htmlFor={`vtep-${node.id}`}>
        Underlay address of {node.name}
      </label>
      <input
        id={`vtep-${node.id}`}
        className="w-40 rounded border border-zinc-300 px-2 py-0.5 font-mono text-xs dark:border-zinc-700 dark:bg-zinc-900"
        value={draft}
        placeholder="192.0.2.17"
        aria-invalid={error ? true : undefined}
        aria-describedby={error ? `vtep-${node.id}-error` : undefined}
        onChange={(e) => setDraft(e.target.value)}
      />
      <Button size="sm" type="submit" disabled={set.isPending}>
        Save
      </Button>
      <Button size="sm" type="button" onClick={() => (setDraft(null), setError(null))}>
        Cancel
      </Button>
      {error ? (
        <span id={`vtep-${node.id}-error`} role="alert" className="text-xs text-red-600">
          {error}
        </span>
      ) : null}
    </form>
  );
}
