"use client";
// "Allocate floating IP": pick a provider network (those an operator made usable, with their free addresses).
import { zodResolver } from "@hookform/resolvers/zod";
import { useMutation } from "@tanstack/react-query";
import { useForm } from "react-hook-form";
import type { z } from "zod";
import { useTRPC } from "@/components/trpc";
import { Options } from "@/components/ui/form";
import { FormDialog, SelectField } from "@/components/ui/form-dialog";
import { useDone } from "@/components/ui/use-done";
import { floatingIpAllocateSchema } from "@/db/validation/network";

type AllocateForm = z.input<typeof floatingIpAllocateSchema>;

export function FloatingIpAllocateDialog({
  tenant,
  networks,
  onClose,
}: {
  tenant: string;
  networks: { id: string; name: string; cidr: string; free: number }[];
  onClose: () => void;
}) {
  const trpc = useTRPC();
  const done = useDone();
  const form = useForm<AllocateForm>({
    resolver: zodResolver(floatingIpAllocateSchema) as never,
    defaultValues: { providerNetworkId: networks[0]?.id ?? "" },
  });
  const allocate = useMutation(
    trpc.floatingIps.allocate.mutationOptions({
      onSuccess: (r) => done(`Floating IP ${r.address} allocated from ${r.providerNetworkName}.`, trpc.floatingIps.pathFilter(), onClose),
    }),
  );
  return (
    <FormDialog
      title="Allocate floating IP"
      form={form}
      mutation={allocate}
      submitLabel="Allocate"
      onClose={onClose}
      onSubmit={form.handleSubmit((v) => allocate.mutate({ tenant, providerNetworkId: v.providerNetworkId }))}
    >
      <SelectField name="providerNetworkId" label="Provider network" hint="The next free address of the network is yours until you release it." autoFocus>
        <Options of={networks} value={(n) => n.id} label={(n) => `${n.name} (${n.cidr}, ${n.free} free)`} />
      </SelectField>
    </FormDialog>
  );
}
