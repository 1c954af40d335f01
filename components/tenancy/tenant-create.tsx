"use client";
// "Create tenant" (operator console): name and slug, then on to the new tenant's page.
import { zodResolver } from "@hookform/resolvers/zod";
import { useMutation } from "@tanstack/react-query";
import { useRouter } from "next/navigation";
import { useForm } from "react-hook-form";
import { useTRPC } from "@/components/trpc";
import { FormDialog, TextField } from "@/components/ui/form-dialog";
import { useDone } from "@/components/ui/use-done";
import { type TenantCreate, tenantCreateSchema } from "@/db/validation/tenancy";

export function TenantCreateDialog({ onClose }: { onClose: () => void }) {
  const trpc = useTRPC();
  const done = useDone();
  const router = useRouter();
  const form = useForm<TenantCreate>({ resolver: zodResolver(tenantCreateSchema), defaultValues: { slug: "", name: "" } });
  const create = useMutation(
    trpc.tenants.create.mutationOptions({
      onSuccess: (t) =>
        done(`Tenant ${t.name} created.`, trpc.tenants.pathFilter(), () => {
          onClose();
          router.push(`/ops/tenants/${t.id}`);
        }),
    }),
  );
  return (
    <FormDialog
      title="Create tenant"
      form={form}
      mutation={create}
      submitLabel="Create tenant"
      onClose={onClose}
      onSubmit={form.handleSubmit((v) => create.mutate(v))}
    >
      <TextField name="name" label="Name" autoFocus />
      <TextField name="slug" label="Slug" hint="In the portal's address (/t/<slug>): lowercase letters, digits and dashes. It can't be changed later." />
    </FormDialog>
  );
}
