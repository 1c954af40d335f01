"use client";
// Rolling DPU OS updates (operator console): the rollouts, newest first; "Start rollout" (rollout-start.tsx); a
// rollout's hosts with their progress (pending, updating, done, failed, skipped), refreshed every second while it
// runs, and pause / resume / abort — confirmed, disabled with the reason the server gives (domain/rollouts.ts).
import { useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { useTRPC } from "@/components/trpc";
import { Badge, type BadgeTone } from "@/components/ui/badge";
import { ActionButtons } from "@/components/ui/button";
import { ConfirmAction, columns, ListView, useConfirmAction, useListTable } from "@/components/ui/list-table";
import { PageHeader } from "@/components/ui/page";
import { operatorCan, reasonOf } from "@/domain/roles";
import { RolloutStartDialog } from "./rollout-start";

const statusTone: Record<string, BadgeTone> = { running: "sky", paused: "amber", aborted: "zinc", succeeded: "green" };
const hostTone: Record<string, BadgeTone> = { pending: "zinc", updating: "sky", done: "green", failed: "red", skipped: "amber" };

type Row = { id: string; imageUri: string; status: string; maxUnavailable: number; poolName: string | null; reason: string | null; createdAt: Date };
const col = columns<Row>();
const fileOf = (u: string) => u.split("/").at(-1) || u;

export function RolloutsPage() {
  const trpc = useTRPC();
  const me = useQuery(trpc.session.me.queryOptions());
  const changeReason = me.data ? reasonOf(operatorCan.change(me.data.platformRole)) : "Loading your permissions…";
  const [starting, setStarting] = useState(false);
  const [open, setOpen] = useState<string | null>(null);
  const list = useListTable((cursor) => trpc.rollouts.list.queryOptions({ sort: "createdAt", dir: "desc", cursor }), {
    poll: (d) => (d?.items.some((r) => r.status === "running") ? 2000 : false),
  });
  const cols = [
    col.text("image", "Image", (r) => fileOf(r.imageUri)),
    col.cell("status", "Status", (r) => <Badge tone={statusTone[r.status]}>{r.status}</Badge>),
    col.muted("scope", "Hosts", (r) => (r.poolName ? `pool ${r.poolName}` : "selection")),
    col.count("maxUnavailable", "At once", (r) => r.maxUnavailable),
    col.date("createdAt", "Started", (r) => r.createdAt),
    col.buttons((r) => [{ label: "Hosts", name: `Hosts of rollout ${fileOf(r.imageUri)}`, onClick: () => setOpen(r.id) }]),
  ];
  return (
    <div>
      <PageHeader
        title="Rollouts"
        description="Rolling DPU OS updates across a pool or a selection of hosts, a few hosts at a time; a failure pauses the rollout."
        buttons={[{ label: "Start rollout", variant: "primary", disabledReason: changeReason, onClick: () => setStarting(true) }]}
      />
      <ListView list={list} label="Rollouts" columns={cols} empty={{ title: "No rollouts yet", body: "Start one to update the DPU OS of many hosts." }} />
      {open ? <RolloutHosts id={open} changeReason={changeReason} /> : null}
      {starting ? (
        <RolloutStartDialog
          onClose={() => setStarting(false)}
          onStarted={(id) => {
            setStarting(false);
            setOpen(id);
          }}
        />
      ) : null}
    </div>
  );
}

type Verb = "pause" | "resume" | "abort";
const VERBS: { verb: Verb; label: string; body: string }[] = [
  { verb: "pause", label: "Pause", body: "No more hosts start; hosts updating now finish." },
  { verb: "resume", label: "Resume", body: "The rollout goes on; hosts that failed are tried again." },
  { verb: "abort", label: "Abort", body: "Hosts not started are skipped; hosts updating now finish. An aborted rollout cannot be resumed." },
];

/** One rollout's hosts and controls; polled while anything can still change. */
function RolloutHosts({ id, changeReason }: { id: string; changeReason: string | null }) {
  const trpc = useTRPC();
  const r = useQuery({
    ...trpc.rollouts.get.queryOptions({ id }),
    refetchInterval: (q) => (q.state.data && (q.state.data.status === "running" || q.state.data.hosts.some((h) => h.state === "updating")) ? 1000 : false),
  });
  const invalidate = trpc.rollouts.pathFilter();
  const of: Record<Verb, ReturnType<typeof useConfirmAction<Verb, { id: string }>>> = {
    pause: useConfirmAction({ mutation: (o) => trpc.rollouts.pause.mutationOptions(o), vars: () => ({ id }), success: () => "Rollout paused.", invalidate }),
    resume: useConfirmAction({ mutation: (o) => trpc.rollouts.resume.mutationOptions(o), vars: () => ({ id }), success: () => "Rollout resumed.", invalidate }),
    abort: useConfirmAction({ mutation: (o) => trpc.rollouts.abort.mutationOptions(o), vars: () => ({ id }), success: () => "Rollout aborted.", invalidate }),
  };
  if (!r.data) return <p className="mt-6 text-sm">{r.error ? r.error.message : "Loading the rollout…"}</p>;
  const d = r.data;
  return (
    <section aria-label={`Rollout ${fileOf(d.imageUri)}`} className="mt-6 flex flex-col gap-3">
      <div className="flex flex-wrap items-center gap-3">
        <h2 className="text-lg font-semibold">{fileOf(d.imageUri)}</h2>
        <Badge tone={statusTone[d.status]}>{d.status}</Badge>
        <ActionButtons
          size="sm"
          actions={VERBS.map(({ verb, label }) => ({
            label,
            disabledReason: changeReason ?? (d.allowed[verb].ok ? null : d.allowed[verb].reason),
            onClick: () => of[verb].ask(verb),
          }))}
        />
      </div>
      {d.reason ? <p className="text-sm text-zinc-700 dark:text-zinc-300">{d.reason}</p> : null}
      <p className="text-sm text-zinc-600 dark:text-zinc-400">
        {d.hosts.filter((h) => h.state === "done").length} of {d.hosts.length} hosts done · at most {d.maxUnavailable} at once · hosts running instances are
        skipped
      </p>
      <table aria-label="Rollout hosts" className="w-full text-left text-sm">
        <thead>
          <tr>
            <th className="py-1">Host</th>
            <th className="py-1">State</th>
            <th className="py-1">Detail</th>
          </tr>
        </thead>
        <tbody>
          {d.hosts.map((h) => (
            <tr key={h.hostId} className="border-t border-zinc-200 dark:border-zinc-800">
              <td className="py-1 font-medium">{h.hostName}</td>
              <td className="py-1">
                <Badge tone={hostTone[h.state]}>{h.state}</Badge>
              </td>
              <td className="py-1 text-zinc-600 dark:text-zinc-400">{h.message}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {VERBS.map(({ verb, label, body }) => (
        <ConfirmAction key={verb} of={of[verb]} title={() => `${label} the rollout?`} body={() => <p>{body}</p>} confirmLabel={label} />
      ))}
    </section>
  );
}
