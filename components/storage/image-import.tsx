"use client";
// "Import from URL" (operator console): Anvil downloads a raw or qcow2 file from an http(s) URL, checks it like an
// upload, stores its bytes and shows its SHA-256. The download runs while the dialog waits (pending button); the
// server's refusals (404, too large, not a disk image, checksum mismatch) land on their fields.
import { zodResolver } from "@hookform/resolvers/zod";
import { useMutation } from "@tanstack/react-query";
import { useState } from "react";
import { useForm } from "react-hook-form";
import { useTRPC } from "@/components/trpc";
import { FormDialog, SelectField, TextField } from "@/components/ui/form-dialog";
import { useDone } from "@/components/ui/use-done";
import { type ImageImportInput, imageImportSchema } from "@/db/validation/storage";
import { ImageCreatedDialog } from "./image-checksum";

export function ImageImportDialog({ onClose }: { onClose: () => void }) {
  const trpc = useTRPC();
  const done = useDone();
  const [created, setCreated] = useState<{ name: string; checksumSha256: string | null } | null>(null);
  const form = useForm<ImageImportInput>({
    resolver: zodResolver(imageImportSchema),
    defaultValues: { url: "", name: "", os: "", version: "", format: "qcow2", sha256: undefined },
  });
  const importImage = useMutation(
    trpc.images.importFromUrl.mutationOptions({ onSuccess: (img) => done(`Image ${img.name} imported.`, trpc.images.pathFilter(), () => setCreated(img)) }),
  );
  if (created) return <ImageCreatedDialog image={created} verb="imported" onClose={onClose} />;
  return (
    <FormDialog
      title="Import image from URL"
      wide
      form={form}
      fields={["url", "name", "os", "version", "format", "sha256", "minSizeGiB"]}
      mutation={importImage}
      submitLabel={importImage.isPending ? "Downloading…" : "Import"}
      onClose={onClose}
      onSubmit={form.handleSubmit((v) => importImage.mutate({ ...v, sha256: v.sha256 || undefined }))}
    >
      <TextField name="url" label="URL" hint="http:// or https://; the file is downloaded by the Anvil server." autoFocus />
      <SelectField name="format" label="Format">
        <option value="qcow2">qcow2</option>
        <option value="raw">raw</option>
      </SelectField>
      <TextField name="name" label="Name" />
      <TextField name="os" label="OS" />
      <TextField name="version" label="OS version" />
      <TextField
        name="sha256"
        label="Expected SHA-256 (optional)"
        hint="From the publisher; a file that does not match is refused and nothing is stored."
        className="font-mono text-xs"
        rules={{ setValueAs: (v: string) => (v?.trim() ? v.trim() : undefined) }}
      />
    </FormDialog>
  );
}
