"use client";
// "Add SSH key": a name and one public-key line, checked on the server (what is wrong with a key lands on the field).
import { zodResolver } from "@hookform/resolvers/zod";
import { useMutation } from "@tanstack/react-query";
import { useForm } from "react-hook-form";
import { useTRPC } from "@/components/trpc";
import { FormDialog, TextAreaField, TextField } from "@/components/ui/form-dialog";
import { useDone } from "@/components/ui/use-done";
import { type SshKeyAdd, sshKeyAddSchema } from "@/db/validation/tenancy";

export function SshKeyAddDialog({ onClose }: { onClose: () => void }) {
  const trpc = useTRPC();
  const done = useDone();
  const form = useForm<SshKeyAdd>({ resolver: zodResolver(sshKeyAddSchema), defaultValues: { name: "", publicKey: "" } });
  const add = useMutation(
    trpc.sshKeys.add.mutationOptions({ onSuccess: (k) => done(`Key ${k.name} added (${k.fingerprint}).`, trpc.sshKeys.pathFilter(), onClose) }),
  );
  return (
    <FormDialog title="Add SSH key" wide form={form} mutation={add} submitLabel="Add key" onClose={onClose} onSubmit={form.handleSubmit((v) => add.mutate(v))}>
      <TextField name="name" label="Name" autoFocus />
      <TextAreaField
        name="publicKey"
        label="Public key"
        hint="One line starting with ssh-ed25519, ecdsa-sha2-nistp256/384/521, ssh-rsa (2048 bits or more) or sk-ssh-ed25519@openssh.com."
        rows={4}
        className="font-mono text-xs"
      />
    </FormDialog>
  );
}
