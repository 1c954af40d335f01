"use client";
// "Create provider network" (operator console): a public range and the VLAN that carries it.
import { useMutation } from "@tanstack/react-query";
import { useForm } from "react-hook-form";
import { useTRPC } from "@/components/trpc";
import { FormDialog, TextField } from "@/components/ui/form-dialog";
import { useDone } from "@/components/ui/use-done";

interface ProviderForm {
  name: string;
  cidr: string;
  vlanId: string;
  description: string;
}

export function ProviderNetworkCreateDialog({ onClose }: { onClose: () => void }) {
  const trpc = useTRPC();
  const done = useDone();
  const form = useForm<ProviderForm>({ defaultValues: { name: "", cidr: "", vlanId: "", description: "" } });
  const create = useMutation(
    trpc.networksAdmin.createProviderNetwork.mutationOptions({
      onSuccess: (r) => done(`Provider network ${r.name} created.`, trpc.networksAdmin.pathFilter(), onClose),
    }),
  );
  return (
    <FormDialog
      title="Create provider network"
      form={form}
      mutation={create}
      submitLabel="Create provider network"
      onClose={onClose}
      onSubmit={form.handleSubmit((v) => create.mutate({ name: v.name, cidr: v.cidr, vlanId: Number(v.vlanId), description: v.description }))}
    >
      <TextField name="name" label="Name" autoFocus />
      <TextField name="cidr" label="Range" hint="The public CIDR this network carries, e.g. 198.51.100.0/24." />
      <TextField name="vlanId" label="VLAN id" hint="1–4094, unique across provider networks." inputMode="numeric" />
      <TextField name="description" label="Description" />
    </FormDialog>
  );
}
