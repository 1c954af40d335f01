"use client";
// "Edit provider network" (operator console): what the DPUs need to use it for floating IPs and SNAT — the gateway's
// address and MAC — and the range handed out (empty = the whole network but its network, broadcast and gateway).
import { zodResolver } from "@hookform/resolvers/zod";
import { useMutation } from "@tanstack/react-query";
import { useForm } from "react-hook-form";
import type { z } from "zod";
import { useTRPC } from "@/components/trpc";
import { FormDialog, TextField } from "@/components/ui/form-dialog";
import { useDone } from "@/components/ui/use-done";
import { providerNetworkUpdateSchema } from "@/db/validation/network";

type EditForm = z.input<typeof providerNetworkUpdateSchema>;

export function ProviderNetworkEditDialog({
  network: n,
  onClose,
}: {
  network: {
    id: string;
    name: string;
    cidr: string;
    description: string;
    gateway: string | null;
    gatewayMac: string | null;
    rangeStart: string | null;
    rangeEnd: string | null;
  };
  onClose: () => void;
}) {
  const trpc = useTRPC();
  const done = useDone();
  const form = useForm<EditForm>({
    resolver: zodResolver(providerNetworkUpdateSchema) as never,
    defaultValues: {
      id: n.id,
      description: n.description,
      gateway: n.gateway ?? "",
      gatewayMac: n.gatewayMac ?? "",
      rangeStart: n.rangeStart ?? "",
      rangeEnd: n.rangeEnd ?? "",
    },
  });
  const update = useMutation(
    trpc.networksAdmin.updateProviderNetwork.mutationOptions({
      onSuccess: () => done(`Provider network ${n.name} updated.`, trpc.networksAdmin.pathFilter(), onClose),
    }),
  );
  return (
    <FormDialog
      title={`Edit provider network ${n.name}`}
      form={form}
      mutation={update}
      submitLabel="Save"
      onClose={onClose}
      onSubmit={form.handleSubmit((v) => update.mutate(v as z.output<typeof providerNetworkUpdateSchema>))}
    >
      <TextField name="gateway" label="Gateway address" hint={`The upstream router's address inside ${n.cidr}.`} autoFocus />
      <TextField name="gatewayMac" label="Gateway MAC" hint="e.g. 52:54:00:12:34:56 — the DPUs send to it without ARP." />
      <TextField name="rangeStart" label="Range start" hint="Empty: the whole network." />
      <TextField name="rangeEnd" label="Range end" />
      <TextField name="description" label="Description" />
    </FormDialog>
  );
}
