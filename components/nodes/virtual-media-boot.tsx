"use client";
// The "Boot from ISO" dialog on a host's page: the operator gives an ISO URL, the host boots once from it through
// Redfish VirtualMedia (workflow node.virtual_media_boot) and the operation's progress shows on the page.
import { zodResolver } from "@hookform/resolvers/zod";
import { useMutation } from "@tanstack/react-query";
import { useForm } from "react-hook-form";
import { z } from "zod";
import { useTRPC } from "@/components/trpc";
import { FormDialog, TextField } from "@/components/ui/form-dialog";
import { useDone } from "@/components/ui/use-done";
import { isoUrlSchema } from "@/db/validation/nodes";

const form = z.object({ imageUrl: isoUrlSchema });
type Form = z.infer<typeof form>;

export function VirtualMediaBootDialog({
  node,
  onStarted,
  onClose,
}: {
  node: { id: string; name: string };
  onStarted: (operationId: string) => void;
  onClose: () => void;
}) {
  const trpc = useTRPC();
  const done = useDone();
  const f = useForm<Form>({ resolver: zodResolver(form), defaultValues: { imageUrl: "" } });
  const m = useMutation(
    trpc.nodes.virtualMediaBoot.mutationOptions({
      onSuccess: (r) =>
        done(`Boot of ${node.name} from the ISO started.`, trpc.nodes.pathFilter(), () => {
          onStarted(r.operationId);
          onClose();
        }),
    }),
  );
  return (
    <FormDialog
      title={`Boot ${node.name} from an ISO`}
      form={f}
      fields={["imageUrl"]}
      dirty={f.formState.isDirty}
      mutation={m}
      submitLabel="Boot from ISO"
      onClose={onClose}
      onSubmit={f.handleSubmit((v) => m.mutate({ id: node.id, imageUrl: v.imageUrl }))}
    >
      <TextField
        name="imageUrl"
        label="ISO URL"
        hint="The BMC mounts it as a virtual CD, the host boots from it once (a running host is reset), and the image is ejected once the OS is booting."
        placeholder="http://images.example/rescue.iso"
        autoFocus
      />
    </FormDialog>
  );
}
