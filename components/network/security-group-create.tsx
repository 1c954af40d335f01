"use client";
// "Create security group": pick the VPC, name it; rules are edited on the group's own page.
import { zodResolver } from "@hookform/resolvers/zod";
import { Options } from "@/components/ui/form";
import { useMutation } from "@tanstack/react-query";
import { useForm } from "react-hook-form";
import type { z } from "zod";
import { useTRPC } from "@/components/trpc";
import { FormDialog, SelectField, TextAreaField, TextField } from "@/components/ui/form-dialog";
import { useDone } from "@/components/ui/use-done";
import { securityGroupCreateSchema } from "@/db/validation/network";

type GroupForm = z.input<typeof securityGroupCreateSchema>;

export function SecurityGroupCreateDialog({ tenant, vpcs, onClose }: { tenant: string; vpcs: { id: string; name: string }[]; onClose: () => void }) {
  const trpc = useTRPC();
  const done = useDone();
  const form = useForm<GroupForm>({
    resolver: zodResolver(securityGroupCreateSchema) as never,
    defaultValues: { vpcId: vpcs[0]?.id ?? "", name: "", description: "" },
  });
  const create = useMutation(
    trpc.securityGroups.create.mutationOptions({ onSuccess: (r) => done(`Security group ${r.name} created.`, trpc.securityGroups.pathFilter(), onClose) }),
  );
  return (
    <FormDialog
      title="Create security group"
      form={form}
      mutation={create}
      submitLabel="Create security group"
      onClose={onClose}
      onSubmit={form.handleSubmit((v) => create.mutate({ tenant, vpcId: v.vpcId, name: v.name, description: v.description }))}
    >
      <SelectField name="vpcId" label="VPC">
        <Options of={vpcs} value={(v) => v.id} label={(v) => v.name} />
      </SelectField>
      <TextField name="name" label="Name" hint="Lowercase letters, digits and dashes." autoFocus />
      <TextAreaField name="description" label="Description" rows={2} />
    </FormDialog>
  );
}
