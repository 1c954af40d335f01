"use client";
// "Upload image" (operator console): a raw or qcow2 file streamed to /api/images/upload, which validates it by its
// bytes and hashes it (SHA-256, shown once the image is made, copyable); an optional expected checksum makes a
// mismatching file be refused with nothing stored. The route's field errors land on their fields.
import { useState } from "react";
import { useTRPC } from "@/components/trpc";
import { Field } from "@/components/ui/form";
import { FormDialog } from "@/components/ui/form-dialog";
import { useDone } from "@/components/ui/use-done";
import { ImageCreatedDialog } from "./image-checksum";

const LABELS = { name: "Name", os: "OS", version: "OS version", minSizeGiB: "Minimum disk size (GiB)", sha256: "Expected SHA-256 (optional)" };

export function ImageUploadDialog({ onClose }: { onClose: () => void }) {
  const trpc = useTRPC();
  const done = useDone();
  const [v, setV] = useState({ name: "", os: "", version: "", minSizeGiB: "", format: "qcow2", sha256: "" });
  const [created, setCreated] = useState<{ name: string; checksumSha256: string | null } | null>(null);
  const [file, setFile] = useState<File | null>(null);
  const [errors, setErrors] = useState<Record<string, string[]>>({});
  const [banner, setBanner] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e: React.FormEvent) => {
    e.preventDefault();
    setErrors({});
    setBanner(null);
    if (!file) return setErrors({ file: ["Choose the image file"] });
    const qs = new URLSearchParams({ name: v.name, os: v.os, version: v.version, format: v.format });
    if (v.minSizeGiB) qs.set("minSizeGiB", v.minSizeGiB);
    if (v.sha256.trim()) qs.set("sha256", v.sha256.trim());
    setBusy(true);
    try {
      const res = await fetch(`/api/images/upload?${qs}`, { method: "POST", body: file, headers: { "content-type": "application/octet-stream" } });
      const body = await res.json().catch(() => ({ error: { message: `Upload failed (${res.status}).` } }));
      if (!res.ok) {
        setErrors(body.error?.fieldErrors ?? {});
        setBanner(body.error?.message ?? `Upload failed (${res.status}).`);
        return;
      }
      await done(`Image ${body.name} uploaded.`, trpc.images.pathFilter(), () => setCreated(body));
    } finally {
      setBusy(false);
    }
  };
  if (created) return <ImageCreatedDialog image={created} verb="uploaded" onClose={onClose} />;
  return (
    <FormDialog title="Upload image" loading={busy} submitError={banner} submitLabel="Upload" onClose={onClose} onSubmit={submit}>
      <Field label="Image file" hint="raw or qcow2; checked by its contents." error={errors.file?.[0]}>
        {(p) => <input {...p} type="file" onChange={(e) => setFile(e.target.files?.[0] ?? null)} />}
      </Field>
      <Field label="Format" error={errors.format?.[0]}>
        {(p) => (
          <select {...p} value={v.format} onChange={(e) => setV({ ...v, format: e.target.value })}>
            <option value="qcow2">qcow2</option>
            <option value="raw">raw</option>
          </select>
        )}
      </Field>
      {(["name", "os", "version", "minSizeGiB", "sha256"] as const).map((k) => (
        <Field key={k} label={LABELS[k]} hint={k === "minSizeGiB" ? "Defaults to the image's size." : undefined} error={errors[k]?.[0]}>
          {(p) => <input {...p} type={k === "minSizeGiB" ? "number" : "text"} value={v[k]} onChange={(e) => setV({ ...v, [k]: e.target.value })} />}
        </Field>
      ))}
    </FormDialog>
  );
}
