"use client";
// "Create VPC": name, IPv4 range (CIDR errors on the field), optional IPv6 range, description.
import { zodResolver } from "@hookform/resolvers/zod";
import { useMutation } from "@tanstack/react-query";
import { useForm } from "react-hook-form";
import type { z } from "zod";
import { useTRPC } from "@/components/trpc";
import { FormDialog, TextAreaField, TextField } from "@/components/ui/form-dialog";
import { useDone } from "@/components/ui/use-done";
import { vpcCreateSchema } from "@/db/validation/network";

type VpcForm = z.input<typeof vpcCreateSchema>;

export function VpcCreateDialog({ tenant, onClose }: { tenant: string; onClose: () => void }) {
  const trpc = useTRPC();
  const done = useDone();
  const form = useForm<VpcForm>({
    resolver: zodResolver(vpcCreateSchema) as never,
    defaultValues: { name: "", cidr: "10.0.0.0/16", ipv6Cidr: "", description: "" },
  });
  const create = useMutation(
    trpc.vpcs.create.mutationOptions({ onSuccess: (r) => done(`VPC ${r.name} created (VNI ${r.vni}).`, trpc.vpcs.pathFilter(), onClose) }),
  );
  return (
    <FormDialog
      title="Create VPC"
      form={form}
      mutation={create}
      submitLabel="Create VPC"
      onClose={onClose}
      onSubmit={form.handleSubmit((v) => create.mutate({ tenant, name: v.name, cidr: v.cidr, description: v.description, ipv6Cidr: v.ipv6Cidr || null }))}
    >
      <TextField name="name" label="Name" hint="Lowercase letters, digits and dashes." autoFocus />
      <TextField name="cidr" label="IPv4 range" hint="A private range between /16 and /28, e.g. 10.0.0.0/16." />
      <TextField name="ipv6Cidr" label="IPv6 range (optional)" hint="A unique local range, /48 to /64, e.g. fd12:3456:789a::/48." />
      <TextAreaField name="description" label="Description" rows={2} />
    </FormDialog>
  );
}
