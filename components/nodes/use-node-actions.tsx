"use client";
// One way to run node actions from the list (bulk, per-node results in a dialog) and from the detail page
// (one node, result as a toast): power (anything that can cut a running OS off asks first), maintenance (asks the
// reason), move to pool (asks the pool), inspect, and the lifecycle transitions manage/provide/abort (one call per
// node; the server has no bulk verb for them).
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { errorInfo, useTRPC, useTRPCClient } from "@/components/trpc";
import { ConfirmDialog } from "@/components/ui/dialog";
import { useToast } from "@/components/ui/toast";
import { type ActionResult, BulkResultsDialog, MaintenanceDialog, MoveToPoolDialog } from "./node-dialogs";

export type PowerAction = "on" | "off" | "soft_off" | "reboot" | "soft_reboot" | "power_cycle" | "nmi";
export type NodeActionKind =
  | { kind: "power"; action: PowerAction }
  | { kind: "maintenanceOn" }
  | { kind: "maintenanceOff" }
  | { kind: "moveToPool" }
  | { kind: "inspect" }
  | { kind: "transition"; event: "manage" | "provide" | "abort" };

export const POWER_LABELS: Record<PowerAction, string> = {
  on: "Power on",
  off: "Power off",
  soft_off: "Shut down",
  reboot: "Reboot",
  soft_reboot: "Soft reboot",
  power_cycle: "Power cycle",
  nmi: "Send NMI",
};

export function actionLabel(a: NodeActionKind): string {
  switch (a.kind) {
    case "power":
      return POWER_LABELS[a.action];
    case "maintenanceOn":
      return "Maintenance on";
    case "maintenanceOff":
      return "Maintenance off";
    case "moveToPool":
      return "Move to pool";
    case "inspect":
      return "Inspect";
    case "transition":
      return a.event[0]!.toUpperCase() + a.event.slice(1);
  }
}

type Target = { id: string; name: string };

/** Power actions that interrupt whatever runs on the node: confirmed before they are sent. */
const DISRUPTIVE = new Set<PowerAction>(["off", "soft_off", "reboot", "soft_reboot", "power_cycle", "nmi"]);

export function useNodeActions(opts: { report: "dialog" | "toast"; onDone?: (results: ActionResult[]) => void }) {
  const trpc = useTRPC();
  const client = useTRPCClient();
  const qc = useQueryClient();
  const toast = useToast();
  const [asking, setAsking] = useState<
    { kind: "maintenance" | "move"; targets: Target[] } | { kind: "confirm"; action: NodeActionKind; targets: Target[] } | null
  >(null);
  const [results, setResults] = useState<{ title: string; rows: ActionResult[] } | null>(null);

  const m = useMutation({
    mutationFn: async ({ action, targets, extra }: { action: NodeActionKind; targets: Target[]; extra?: string }): Promise<ActionResult[]> => {
      const ids = targets.map((t) => t.id);
      switch (action.kind) {
        case "power":
          return client.nodes.power.mutate({ ids, action: action.action });
        case "maintenanceOn":
          return client.nodes.setMaintenance.mutate({ ids, on: true, reason: extra });
        case "maintenanceOff":
          return client.nodes.setMaintenance.mutate({ ids, on: false });
        case "moveToPool":
          return client.nodes.moveToPool.mutate({ ids, poolId: extra! });
        case "inspect":
          return client.nodes.inspect.mutate({ ids });
        case "transition": {
          const out: ActionResult[] = [];
          for (const t of targets) {
            try {
              const r = await client.nodes.transition.mutate({ id: t.id, event: action.event });
              out.push({ id: t.id, name: t.name, ok: true, message: `Now ${r.provisionState}.` });
            } catch (e) {
              out.push({ id: t.id, name: t.name, ok: false, message: errorInfo(e).message });
            }
          }
          return out;
        }
      }
    },
    onSuccess: async (rows, { action }) => {
      setAsking(null);
      await qc.invalidateQueries(trpc.nodes.pathFilter());
      await qc.invalidateQueries(trpc.events.pathFilter());
      if (opts.report === "dialog") setResults({ title: `${actionLabel(action)}: results`, rows });
      else for (const r of rows) toast(r.ok ? "success" : "error", `${actionLabel(action)} ${r.name}: ${r.message}`);
      opts.onDone?.(rows);
    },
    onError: (e) => toast("error", errorInfo(e).message),
  });

  /** Runs an action; maintenance-on and move-to-pool first ask for their reason / pool. */
  const run = (action: NodeActionKind, targets: Target[]) => {
    if (!targets.length) return;
    if (action.kind === "maintenanceOn") return setAsking({ kind: "maintenance", targets });
    if (action.kind === "moveToPool") return setAsking({ kind: "move", targets });
    if (action.kind === "power" && DISRUPTIVE.has(action.action)) return setAsking({ kind: "confirm", action, targets });
    m.mutate({ action, targets });
  };

  const Ask = asking?.kind === "move" ? MoveToPoolDialog : MaintenanceDialog;
  const ui = (
    <>
      {asking?.kind === "maintenance" || asking?.kind === "move" ? (
        // Both ask one thing (a reason, a pool) and pass it with the action.
        <Ask
          count={asking.targets.length}
          busy={m.isPending}
          onSubmit={(answer) => m.mutate({ action: { kind: asking.kind === "move" ? "moveToPool" : "maintenanceOn" }, targets: asking.targets, extra: answer })}
          onClose={() => setAsking(null)}
        />
      ) : null}
      {asking?.kind === "confirm" ? (
        <ConfirmDialog
          open
          title={`${actionLabel(asking.action)} ${asking.targets.length === 1 ? asking.targets[0]!.name : `${asking.targets.length} nodes`}?`}
          body={
            <p>
              Whatever runs on {asking.targets.length === 1 ? "it" : "them"} is interrupted
              {asking.targets.length > 1 ? `: ${asking.targets.map((t) => t.name).join(", ")}` : ""}.
            </p>
          }
          confirmLabel={actionLabel(asking.action)}
          busy={m.isPending}
          onConfirm={() => m.mutate({ action: asking.action, targets: asking.targets })}
          onClose={() => setAsking(null)}
        />
      ) : null}
      {results ? <BulkResultsDialog title={results.title} results={results.rows} onClose={() => setResults(null)} /> : null}
    </>
  );
  return { run, busy: m.isPending, pending: m.isPending ? m.variables : undefined, ui };
}
