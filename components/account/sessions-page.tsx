"use client";
// Account → Sessions: where you are signed in (browser, address, when you signed in and were last active), this
// session marked; sign one of the others out, or all of them at once. Each ends at once: that browser is signed out
// at its next request and its open consoles close.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import type { ColumnDef } from "@tanstack/react-table";
import { useState } from "react";
import { errorInfo, useTRPC } from "@/components/trpc";
import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { DataTable } from "@/components/ui/data-table";
import { ConfirmDialog } from "@/components/ui/dialog";
import { EmptyState, PageHeader } from "@/components/ui/page";
import { useToast } from "@/components/ui/toast";
import { useCursorPages } from "@/components/ui/use-cursor-pages";

interface SessionRow {
  id: string;
  client: string;
  userAgent: string | null;
  ipAddress: string | null;
  createdAt: Date;
  lastActiveAt: Date;
  expiresAt: Date;
  current: boolean;
}

export function SessionsPage() {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const toast = useToast();
  const pages = useCursorPages("");
  const list = useQuery({ ...trpc.account.sessions.queryOptions({ cursor: pages.cursor }), placeholderData: (p) => p });
  const [ending, setEnding] = useState<SessionRow | "others" | null>(null);
  const refresh = () => qc.invalidateQueries(trpc.account.pathFilter());
  const onError = (e: unknown) => toast("error", errorInfo(e).message);
  const revoke = useMutation(trpc.account.revokeSession.mutationOptions({ onError }));
  const revokeOthers = useMutation(trpc.account.revokeOtherSessions.mutationOptions({ onError }));
  const rows = (list.data?.items ?? []) as SessionRow[];
  const others = rows.filter((r) => !r.current).length;

  const columns: ColumnDef<SessionRow, unknown>[] = [
    {
      id: "client",
      header: "Browser",
      cell: ({ row }) => (
        <span className="flex items-center gap-2" title={row.original.userAgent ?? undefined}>
          <span className="font-medium">{row.original.client}</span>
          {row.original.current ? <Badge tone="sky">This session</Badge> : null}
        </span>
      ),
    },
    { id: "ip", header: "Address", cell: ({ row }) => <code className="text-xs">{row.original.ipAddress ?? "unknown"}</code> },
    { id: "createdAt", header: "Signed in", cell: ({ row }) => new Date(row.original.createdAt).toLocaleString() },
    { id: "lastActiveAt", header: "Last active", cell: ({ row }) => new Date(row.original.lastActiveAt).toLocaleString() },
    { id: "expiresAt", header: "Expires", cell: ({ row }) => new Date(row.original.expiresAt).toLocaleString() },
    {
      id: "actions",
      header: () => <span className="sr-only">Actions</span>,
      cell: ({ row }) => (
        <div className="flex justify-end">
          <Button
            size="sm"
            variant="danger"
            aria-label={`Sign out ${row.original.client} session from ${row.original.ipAddress ?? "an unknown address"}`}
            disabledReason={row.original.current ? "This is the session you are using; sign out from the menu instead." : null}
            onClick={() => setEnding(row.original)}
          >
            Sign out
          </Button>
        </div>
      ),
    },
  ];

  const confirm = async () => {
    try {
      if (ending === "others") {
        const r = await revokeOthers.mutateAsync();
        toast("success", `${r.sessionsRevoked} other session${r.sessionsRevoked === 1 ? "" : "s"} signed out.`);
      } else if (ending) {
        await revoke.mutateAsync({ id: ending.id });
        toast("success", `${ending.client} session signed out.`);
      }
    } finally {
      setEnding(null);
      await refresh();
    }
  };

  return (
    <div>
      <PageHeader
        title="Sessions"
        description="Where you are signed in. Sign out a session you don't recognise, then change your password."
        actions={
          <Button variant="danger" disabledReason={list.data && others === 0 && !pages.hasPrev && !list.data.nextCursor ? "You have no other sessions." : null} onClick={() => setEnding("others")}>
            Sign out all other sessions
          </Button>
        }
      />
      <DataTable<SessionRow, string>
        label="Sessions"
        columns={columns}
        rows={rows}
        loading={list.isFetching}
        error={list.error ? errorInfo(list.error).message : null}
        empty={<EmptyState title="No sessions" />}
        page={{ hasPrev: pages.hasPrev, hasNext: !!list.data?.nextCursor, onPrev: pages.prev, onNext: () => pages.next(list.data?.nextCursor) }}
      />
      <ConfirmDialog
        open={!!ending}
        title={ending === "others" ? "Sign out all other sessions?" : `Sign out the ${ending?.client ?? ""} session?`}
        body={
          <p>
            {ending === "others"
              ? "Every browser signed in as you, except this one, is signed out now; their open consoles close."
              : "That browser is signed out now; its open consoles close."}
          </p>
        }
        confirmLabel={ending === "others" ? "Sign out other sessions" : "Sign out session"}
        busy={revoke.isPending || revokeOthers.isPending}
        onConfirm={() => confirm().catch(() => {})}
        onClose={() => setEnding(null)}
      />
    </div>
  );
}
