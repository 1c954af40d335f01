"use client";
// A DPU's own BMC credentials on its node page: whether they are set (as their fingerprint only; the secret never
// reaches the browser) and "Set DPU BMC credentials", which the server probes against the DPU's BMC before saving, so
// wrong ones land on the form with the BMC's reason and change nothing.
import { zodResolver } from "@hookform/resolvers/zod";
import { useMutation } from "@tanstack/react-query";
import { useState } from "react";
import { useForm } from "react-hook-form";
import type { z } from "zod";
import { useTRPC } from "@/components/trpc";
import { Button } from "@/components/ui/button";
import { FormDialog, TextField } from "@/components/ui/form-dialog";
import { useDone } from "@/components/ui/use-done";
import { dpuBmcCredentialsSchema } from "@/db/validation/nodes";

const formSchema = dpuBmcCredentialsSchema.omit({ id: true });
type Form = z.infer<typeof formSchema>;

export function DpuBmcCredentials({
  node,
  disabledReason,
}: {
  node: { id: string; name: string; bmcCredentialsFingerprint: string | null };
  disabledReason?: string | null;
}) {
  const [open, setOpen] = useState(false);
  return (
    <span className="inline-flex flex-wrap items-center gap-2">
      {node.bmcCredentialsFingerprint ? (
        <span>
          set · fingerprint <code className="text-xs">{node.bmcCredentialsFingerprint}</code>
        </span>
      ) : (
        <span className="text-amber-700 dark:text-amber-400">needed: Anvil does not call this DPU's BMC with its host's</span>
      )}
      <Button size="sm" disabledReason={disabledReason ?? undefined} onClick={() => setOpen(true)}>
        Set DPU BMC credentials
      </Button>
      {open ? <CredentialsDialog node={node} onClose={() => setOpen(false)} /> : null}
    </span>
  );
}

function CredentialsDialog({ node, onClose }: { node: { id: string; name: string }; onClose: () => void }) {
  const trpc = useTRPC();
  const done = useDone();
  const form = useForm<Form>({ resolver: zodResolver(formSchema), defaultValues: { username: "", password: "" } });
  const m = useMutation(
    trpc.dpuBmc.setCredentials.mutationOptions({
      onSuccess: () => done(`${node.name}: DPU BMC credentials saved; its BMC accepted them.`, trpc.nodes.pathFilter(), onClose),
    }),
  );
  return (
    <FormDialog
      title={`Set DPU BMC credentials of ${node.name}`}
      form={form}
      mutation={m}
      submitLabel="Check and save"
      onClose={onClose}
      onSubmit={form.handleSubmit((v) => m.mutate({ id: node.id, ...v }))}
    >
      <TextField name="username" label="DPU BMC username" hint="The DPU BMC's own account, not the host's." autoComplete="off" autoFocus />
      <TextField
        name="password"
        label="DPU BMC password"
        hint="Checked against the DPU's BMC before it is saved."
        type="password"
        autoComplete="new-password"
      />
    </FormDialog>
  );
}
