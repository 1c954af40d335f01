"use client";
// "Attach floating IP" / "Move floating IP": pick one of the tenant's instance NICs (its IPv4 address is what the
// floating IP is NATed to). A move is one step: the old NIC loses the address as the new one gets it.
import { zodResolver } from "@hookform/resolvers/zod";
import { useMutation, useQuery } from "@tanstack/react-query";
import { useForm } from "react-hook-form";
import type { z } from "zod";
import { useTRPC } from "@/components/trpc";
import { Options } from "@/components/ui/form";
import { FormDialog, SelectField } from "@/components/ui/form-dialog";
import { useDone } from "@/components/ui/use-done";
import { floatingIpAttachSchema } from "@/db/validation/network";

type AttachForm = z.input<typeof floatingIpAttachSchema>;

export function FloatingIpAttachDialog({
  tenant,
  fip,
  verb,
  onClose,
}: {
  tenant: string;
  fip: { id: string; address: string; portId: string | null };
  verb: "attach" | "move";
  onClose: () => void;
}) {
  const trpc = useTRPC();
  const done = useDone();
  const ports = useQuery(trpc.floatingIps.attachablePorts.queryOptions({ tenant }));
  const choices = (ports.data ?? []).filter((p) => p.portId !== fip.portId);
  const form = useForm<AttachForm>({ resolver: zodResolver(floatingIpAttachSchema) as never, defaultValues: { id: fip.id, portId: "" } });
  const options = {
    onSuccess: (r: { address: string; instanceName: string | null }) =>
      done(
        `Floating IP ${r.address} ${verb === "move" ? "moved" : "attached"} to ${r.instanceName}.`,
        [trpc.floatingIps.pathFilter(), trpc.instances.pathFilter()],
        onClose,
      ),
  };
  const attach = useMutation(trpc.floatingIps.attach.mutationOptions(options));
  const move = useMutation(trpc.floatingIps.move.mutationOptions(options));
  const m = verb === "move" ? move : attach;
  const title = `${verb === "move" ? "Move" : "Attach"} floating IP ${fip.address}`;
  return (
    <FormDialog
      title={title}
      form={form}
      mutation={m}
      submitLabel={verb === "move" ? "Move" : "Attach"}
      submitDisabledReason={ports.data && choices.length === 0 ? "No instance NIC to attach to: create an instance on an overlay subnet first." : null}
      onClose={onClose}
      onSubmit={form.handleSubmit((v) => m.mutate({ tenant, id: fip.id, portId: v.portId }))}
    >
      <SelectField name="portId" label="Instance NIC" hint="The floating IP is NATed to this NIC's IPv4 address." autoFocus>
        <option value="">{ports.isLoading ? "Loading…" : "Pick an instance NIC"}</option>
        <Options
          of={choices}
          value={(p) => p.portId}
          label={(p) => `${p.instanceName} · nic${p.nicIndex ?? 0} · ${p.fixedIp}${p.floatingIp ? ` (has ${p.floatingIp})` : ""}`}
        />
      </SelectField>
    </FormDialog>
  );
}
