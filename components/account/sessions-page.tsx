"use client";
// Account → Sessions: where you are signed in (browser, address, when you signed in and were last active), this
// session marked; sign one of the others out, or all of them at once. Each ends at once: that browser is signed out
// at its next request and its open consoles close.
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { errorInfo, useTRPC } from "@/components/trpc";
import { Badge } from "@/components/ui/badge";
import { DataTable } from "@/components/ui/data-table";
import { ConfirmDialog } from "@/components/ui/dialog";
import { columns, useListTable } from "@/components/ui/list-table";
import { EmptyState, PageHeader } from "@/components/ui/page";
import { useToast } from "@/components/ui/toast";

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
const col = columns<SessionRow>();

export function SessionsPage() {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const toast = useToast();
  const list = useListTable((cursor) => trpc.account.sessions.queryOptions({ cursor }), { pageSummary: false });
  const [ending, setEnding] = useState<SessionRow | "others" | null>(null);
  const refresh = () => qc.invalidateQueries(trpc.account.pathFilter());
  const onError = (e: unknown) => toast("error", errorInfo(e).message);
  const revoke = useMutation(trpc.account.revokeSession.mutationOptions({ onError }));
  const revokeOthers = useMutation(trpc.account.revokeOtherSessions.mutationOptions({ onError }));
  const rows = list.rows as SessionRow[];
  const others = rows.filter((r) => !r.current).length;

  const cols = [
    col.cell("client", "Browser", (r) => (
      <span className="flex items-center gap-2" title={r.userAgent ?? undefined}>
        <span className="font-medium">{r.client}</span>
        {r.current ? <Badge tone="sky">This session</Badge> : null}
      </span>
    )),
    col.code("ip", "Address", (r) => r.ipAddress ?? "unknown"),
    col.date("createdAt", "Signed in", (r) => r.createdAt),
    col.date("lastActiveAt", "Last active", (r) => r.lastActiveAt),
    col.date("expiresAt", "Expires", (r) => r.expiresAt),
    col.buttons((r) => [
      {
        label: "Sign out",
        variant: "danger",
        name: `Sign out ${r.client} session from ${r.ipAddress ?? "an unknown address"}`,
        disabledReason: r.current ? "This is the session you are using; sign out from the menu instead." : null,
        onClick: () => setEnding(r),
      },
    ]),
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
        buttons={[
          {
            label: "Sign out all other sessions",
            variant: "danger",
            disabledReason: list.data && others === 0 && !list.table.page.hasPrev && !list.data.nextCursor ? "You have no other sessions." : null,
            onClick: () => setEnding("others"),
          },
        ]}
      />
      <DataTable label="Sessions" columns={cols} {...list.table} rows={rows} empty={<EmptyState title="No sessions" />} />
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
