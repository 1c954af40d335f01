"use client";
// The signed-in user's SSH public keys: list with fingerprints (as `ssh-keygen -lf` shows them), add (validated
// on the server; what is wrong with a key lands on the field), delete after confirmation.
import { zodResolver } from "@hookform/resolvers/zod";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import type { ColumnDef } from "@tanstack/react-table";
import { useState } from "react";
import { useForm } from "react-hook-form";
import { errorInfo, useTRPC } from "@/components/trpc";
import { Button } from "@/components/ui/button";
import { DataTable } from "@/components/ui/data-table";
import { ConfirmDialog, Dialog } from "@/components/ui/dialog";
import { Field, FormError } from "@/components/ui/form";
import { EmptyState, PageHeader } from "@/components/ui/page";
import { useToast } from "@/components/ui/toast";
import { useCursorPages } from "@/components/ui/use-cursor-pages";
import { type SshKeyAdd, sshKeyAddSchema } from "@/db/validation/tenancy";
import { placeErrors } from "./one-time-secret";

interface KeyRow {
  id: string;
  name: string;
  keyType: string;
  bits: number;
  comment: string | null;
  fingerprint: string;
  createdAt: Date;
}

export function SshKeysPage() {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const toast = useToast();
  const pages = useCursorPages("");
  const list = useQuery({ ...trpc.sshKeys.list.queryOptions({ cursor: pages.cursor }), placeholderData: (p) => p });
  const [adding, setAdding] = useState(false);
  const [deleting, setDeleting] = useState<KeyRow | null>(null);
  const del = useMutation(
    trpc.sshKeys.delete.mutationOptions({
      onSuccess: async () => {
        toast("success", `Key ${deleting?.name} deleted.`);
        setDeleting(null);
        await qc.invalidateQueries(trpc.sshKeys.pathFilter());
      },
      onError: (e) => toast("error", errorInfo(e).message),
    }),
  );
  const columns: ColumnDef<KeyRow, unknown>[] = [
    { id: "name", header: "Name", cell: ({ row }) => <span className="font-medium">{row.original.name}</span> },
    { id: "type", header: "Type", cell: ({ row }) => `${row.original.keyType} (${row.original.bits} bits)` },
    { id: "fingerprint", header: "Fingerprint", cell: ({ row }) => <code className="text-xs">{row.original.fingerprint}</code> },
    { id: "comment", header: "Comment", cell: ({ row }) => row.original.comment ?? "" },
    { id: "createdAt", header: "Added", cell: ({ row }) => new Date(row.original.createdAt).toLocaleString() },
    {
      id: "actions",
      header: () => <span className="sr-only">Actions</span>,
      cell: ({ row }) => (
        <div className="flex justify-end">
          <Button size="sm" variant="danger" aria-label={`Delete key ${row.original.name}`} onClick={() => setDeleting(row.original)}>
            Delete
          </Button>
        </div>
      ),
    },
  ];
  return (
    <div>
      <PageHeader
        title="SSH keys"
        description="Your public keys. New servers you create get them for their default user. Keys belong to you, in every tenant."
        actions={
          <Button variant="primary" onClick={() => setAdding(true)}>
            Add SSH key
          </Button>
        }
      />
      <DataTable<KeyRow, string>
        label="SSH keys"
        columns={columns}
        rows={list.data?.items ?? []}
        loading={list.isFetching}
        error={list.error ? errorInfo(list.error).message : null}
        empty={<EmptyState title="No SSH keys yet" body="Add the contents of your ~/.ssh/id_ed25519.pub (or another .pub file)." />}
        page={{ hasPrev: pages.hasPrev, hasNext: !!list.data?.nextCursor, onPrev: pages.prev, onNext: () => pages.next(list.data?.nextCursor) }}
      />
      {adding ? <AddKeyDialog onClose={() => setAdding(false)} /> : null}
      <ConfirmDialog
        open={!!deleting}
        title={`Delete key ${deleting?.name ?? ""}?`}
        body={<p>Servers created from now on won't get this key. Servers that already have it keep it.</p>}
        confirmLabel="Delete key"
        busy={del.isPending}
        onConfirm={() => deleting && del.mutate({ id: deleting.id })}
        onClose={() => setDeleting(null)}
      />
    </div>
  );
}

function AddKeyDialog({ onClose }: { onClose: () => void }) {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const toast = useToast();
  const [submitError, setSubmitError] = useState<string | null>(null);
  const form = useForm<SshKeyAdd>({ resolver: zodResolver(sshKeyAddSchema), defaultValues: { name: "", publicKey: "" } });
  const add = useMutation(
    trpc.sshKeys.add.mutationOptions({
      onSuccess: async (k) => {
        toast("success", `Key ${k.name} added (${k.fingerprint}).`);
        await qc.invalidateQueries(trpc.sshKeys.pathFilter());
        onClose();
      },
      onError: (e) => setSubmitError(placeErrors(errorInfo(e), ["name", "publicKey"] as const, (f, m) => form.setError(f, { message: m }))),
    }),
  );
  const close = () => {
    if (form.formState.isDirty && !add.isPending && !window.confirm("Discard unsaved changes?")) return;
    onClose();
  };
  return (
    <Dialog open wide onClose={close} title="Add SSH key">
      <form
        noValidate
        className="flex flex-col gap-4"
        onSubmit={form.handleSubmit((v) => {
          setSubmitError(null);
          add.mutate(v);
        })}
      >
        <FormError message={submitError} />
        <Field label="Name" error={form.formState.errors.name}>
          {(p) => <input {...p} autoFocus {...form.register("name")} />}
        </Field>
        <Field
          label="Public key"
          hint="One line starting with ssh-ed25519, ecdsa-sha2-nistp256/384/521, ssh-rsa (2048 bits or more) or sk-ssh-ed25519@openssh.com."
          error={form.formState.errors.publicKey}
        >
          {(p) => <textarea {...p} rows={4} className={`${p.className} font-mono text-xs`} {...form.register("publicKey")} />}
        </Field>
        <div className="flex justify-end gap-2">
          <Button onClick={close}>Cancel</Button>
          <Button type="submit" variant="primary" busy={add.isPending}>
            Add key
          </Button>
        </div>
      </form>
    </Dialog>
  );
}
