"use client";
// The signed-in user's SSH public keys: list with fingerprints (as `ssh-keygen -lf` shows them), add (validated
// on the server; what is wrong with a key lands on the field), delete after confirmation.
import { useState } from "react";
import { useTRPC } from "@/components/trpc";
import { columns, ConfirmAction, ListView, useConfirmAction, useListTable } from "@/components/ui/list-table";
import { PageHeader } from "@/components/ui/page";
import { SshKeyAddDialog } from "./ssh-key-add";

interface KeyRow {
  id: string;
  name: string;
  keyType: string;
  bits: number;
  comment: string | null;
  fingerprint: string;
  createdAt: Date;
}
const col = columns<KeyRow>();

export function SshKeysPage() {
  const trpc = useTRPC();
  const list = useListTable((cursor) => trpc.sshKeys.list.queryOptions({ cursor }), { pageSummary: false });
  const [adding, setAdding] = useState(false);
  const del = useConfirmAction({
    mutation: (o) => trpc.sshKeys.delete.mutationOptions(o),
    vars: (k: KeyRow) => ({ id: k.id }),
    success: (k) => `Key ${k.name} deleted.`,
    invalidate: trpc.sshKeys.pathFilter(),
  });
  const cols = [
    col.text("name", "Name", (k) => k.name),
    col.cell("type", "Type", (k) => `${k.keyType} (${k.bits} bits)`),
    col.code("fingerprint", "Fingerprint", (k) => k.fingerprint),
    col.cell("comment", "Comment", (k) => k.comment ?? ""),
    col.date("createdAt", "Added", (k) => k.createdAt),
    col.buttons((k) => [{ label: "Delete", variant: "danger", name: `Delete key ${k.name}`, onClick: () => del.ask(k) }]),
  ];
  return (
    <div>
      <PageHeader
        title="SSH keys"
        description="Your public keys. New servers you create get them for their default user. Keys belong to you, in every tenant."
        buttons={[{ label: "Add SSH key", variant: "primary", onClick: () => setAdding(true) }]}
      />
      <ListView
        list={list}
        label="SSH keys"
        columns={cols}
        empty={{ title: "No SSH keys yet", body: "Add the contents of your ~/.ssh/id_ed25519.pub (or another .pub file)." }}
      />
      {adding ? <SshKeyAddDialog onClose={() => setAdding(false)} /> : null}
      <ConfirmAction
        of={del}
        title={(k) => `Delete key ${k.name}?`}
        body={() => <p>Servers created from now on won't get this key. Servers that already have it keep it.</p>}
        confirmLabel="Delete key"
      />
    </div>
  );
}
