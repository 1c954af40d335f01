"use client";
// Operators: every tenant's instances — tenant, host (link to the node), state, the latest operation with its step or
// error — and what an operator admin can do about them: recover an instance onto a spare host, retry a failed
// operation, abort a running create (it rolls back). Refreshes by itself while anything is under way.
import { useMutation, useQueryClient } from "@tanstack/react-query";
import Link from "next/link";
import { useState } from "react";
import { errorInfo, useTRPC } from "@/components/trpc";
import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { ConfirmDialog } from "@/components/ui/dialog";
import { columns, ListView, useListTable } from "@/components/ui/list-table";
import { PageHeader } from "@/components/ui/page";
import { useToast } from "@/components/ui/toast";
import { InstanceStateBadge, TRANSITIONAL } from "./instances-page";

interface Row {
  id: string;
  name: string;
  state: string;
  stateReason: string | null;
  tenantSlug: string;
  nodeId: string | null;
  nodeName: string | null;
  poolName: string;
  address: string | null;
  operationId: string | null;
  operationKind: string | null;
  operationStatus: string | null;
  operationError: string | null;
  operationStep: string | null;
}

const col = columns<Row>();

type Pending = { kind: "recover" | "retry" | "abort"; row: Row } | null;

export function OpsInstancesPage({ canAct }: { canAct: boolean }) {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const toast = useToast();
  const list = useListTable((cursor, q) => trpc.instances.adminList.queryOptions({ q, cursor }), {
    poll: (data) => (data?.items.some((i) => TRANSITIONAL.has(i.state)) ? 1000 : 10_000),
  });
  const dq = list.search.dq;
  const [pending, setPending] = useState<Pending>(null);
  const done = (msg: string) => async () => {
    toast("success", msg);
    setPending(null);
    await qc.invalidateQueries(trpc.instances.pathFilter());
  };
  const onError = (e: unknown) => toast("error", errorInfo(e).message);
  const recover = useMutation(trpc.instances.recover.mutationOptions({ onSuccess: done("Recovery started."), onError }));
  const retry = useMutation(trpc.operations.retry.mutationOptions({ onSuccess: done("Retrying."), onError }));
  const abort = useMutation(trpc.operations.abort.mutationOptions({ onSuccess: done("Abort requested: the create rolls back."), onError }));
  const noRights = canAct ? null : "Operator admins only.";

  const cols = [
    col.text("name", "Instance", (r) => r.name),
    col.cell("tenant", "Tenant", (r) => r.tenantSlug),
    col.cell("state", "State", (r) => <InstanceStateBadge state={r.state} reason={r.stateReason} />),
    col.cell("node", "Host", (r) =>
      r.nodeId ? (
        <Link className="text-sky-700 hover:underline dark:text-sky-400" href={`/ops/nodes/${r.nodeId}`}>
          {r.nodeName}
        </Link>
      ) : (
        "—"
      ),
    ),
    col.cell("address", "Address", (r) => <span className="font-mono text-xs">{r.address ?? "—"}</span>),
    col.cell("operation", "Latest operation", (r) => {
      if (!r.operationKind) return "—";
      return (
        <span className="flex flex-col gap-0.5">
          <span className="flex items-center gap-1">
            <span className="text-xs">{r.operationKind}</span>
            <Badge tone={r.operationStatus === "failed" ? "red" : r.operationStatus === "succeeded" ? "green" : "sky"}>{r.operationStatus}</Badge>
          </span>
          {r.operationStep && (r.operationStatus === "running" || r.operationStatus === "cancelling") ? (
            <span className="text-xs text-zinc-500">now: {r.operationStep}</span>
          ) : null}
          {r.operationError && r.operationStatus !== "succeeded" ? (
            <span className="max-w-80 text-xs text-red-700 dark:text-red-300">{r.operationError}</span>
          ) : null}
        </span>
      );
    }),
    col.actions((r) => {
      const canRecover = ["running", "stopped", "failed"].includes(r.state) ? null : `The instance is ${r.state}.`;
      const canRetry = r.operationStatus === "failed" || r.operationStatus === "cancelled" ? null : "Only a failed operation can be retried.";
      const canAbort =
        r.operationKind === "instance.create" && (r.operationStatus === "running" || r.operationStatus === "pending")
          ? null
          : "Only a running create can be aborted.";
      return (
        <>
          <Button size="sm" aria-label={`Recover ${r.name}`} disabledReason={noRights ?? canRecover} onClick={() => setPending({ kind: "recover", row: r })}>
            Recover
          </Button>
          <Button
            size="sm"
            aria-label={`Retry the latest operation of ${r.name}`}
            disabledReason={noRights ?? canRetry}
            onClick={() => setPending({ kind: "retry", row: r })}
          >
            Retry
          </Button>
          <Button
            size="sm"
            variant="danger"
            aria-label={`Abort creating ${r.name}`}
            disabledReason={noRights ?? canAbort}
            onClick={() => setPending({ kind: "abort", row: r })}
          >
            Abort
          </Button>
        </>
      );
    }),
  ];

  const p = pending;
  const texts = {
    recover: {
      title: `Recover ${p?.row.name} onto a spare host?`,
      body: "Its host is fenced (powered off, or written off if its BMC is unreachable) and marked in error; the same volumes, MAC and address move to a spare host of the pool, which boots them.",
      label: "Recover",
    },
    retry: {
      title: `Retry ${p?.row.operationKind} of ${p?.row.name}?`,
      body: "The operation runs again from the start; what the failed attempt left behind was released or is reused.",
      label: "Retry",
    },
    abort: {
      title: `Abort creating ${p?.row.name}?`,
      body: "The create stops at its next step and rolls back: the host returns to the pool, the disk and address are released. The instance stays, failed, for the tenant to delete or for a retry.",
      label: "Abort create",
    },
  } as const;
  return (
    <div>
      <PageHeader title="Instances" description="Every tenant's bare-metal instances, the hosts they run on, and their latest operations." />
      <ListView
        list={list}
        label="All instances"
        columns={cols}
        search={{ label: "Filter instances", placeholder: "Filter by name" }}
        empty={
          dq
            ? { title: "No instance matches the filter" }
            : { title: "No instances yet", body: "Tenants create instances in their portal; they show up here with their hosts." }
        }
      />
      <ConfirmDialog
        open={!!p}
        title={p ? texts[p.kind].title : ""}
        body={<p>{p ? texts[p.kind].body : ""}</p>}
        confirmLabel={p ? texts[p.kind].label : "OK"}
        busy={recover.isPending || retry.isPending || abort.isPending}
        onConfirm={() => {
          if (!p) return;
          if (p.kind === "recover") recover.mutate({ id: p.row.id });
          else if (p.row.operationId) (p.kind === "retry" ? retry : abort).mutate({ id: p.row.operationId });
        }}
        onClose={() => setPending(null)}
      />
    </div>
  );
}
