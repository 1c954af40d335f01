"use client";
// "Add webhook": name, HTTPS endpoint, events; the signing secret is shown once by the caller.
import { useMutation, useQuery } from "@tanstack/react-query";
import { useForm } from "react-hook-form";
import { FormDialog, TextField } from "@/components/ui/form-dialog";
import { useDone } from "@/components/ui/use-done";
import { EVENT_LABELS, useWebhooksApi } from "./webhooks-api";

interface FormValues {
  name: string;
  url: string;
  events: string[];
}

export function WebhookAddDialog({
  tenant,
  onClose,
  onCreated,
}: {
  tenant: string | null;
  onClose: () => void;
  onCreated: (name: string, secret: string) => void;
}) {
  const { r, withTenant } = useWebhooksApi(tenant);
  const done = useDone();
  const events = useQuery(r.events.queryOptions(withTenant({})));
  const form = useForm<FormValues>({ defaultValues: { name: "", url: "https://", events: ["instance.state_changed"] } });
  const create = useMutation(
    r.create.mutationOptions({
      onSuccess: (w) =>
        done(null, r.pathFilter(), () => {
          onClose();
          onCreated(w.name, w.secret);
        }),
    }),
  );
  return (
    <FormDialog
      title="Add webhook"
      wide
      form={form}
      mutation={create}
      submitLabel="Add webhook"
      onClose={onClose}
      onSubmit={form.handleSubmit((v) => create.mutate(withTenant({ name: v.name, url: v.url, events: v.events })))}
    >
      <TextField name="name" label="Name" autoFocus />
      <TextField name="url" label="Endpoint URL" hint="An https:// URL Anvil can reach; it must answer 2xx within 10 s." type="url" />
      <fieldset className="flex flex-col gap-1">
        <legend className="mb-1 text-sm font-medium">Events</legend>
        {(events.data ?? []).map((e) => (
          <label key={e} className="flex items-center gap-2 text-sm">
            <input type="checkbox" value={e} {...form.register("events")} />
            {EVENT_LABELS[e] ?? e} <code className="text-xs text-zinc-500">{e}</code>
          </label>
        ))}
        {form.formState.errors.events ? (
          <p role="alert" className="text-xs text-red-600">
            {form.formState.errors.events.message}
          </p>
        ) : null}
      </fieldset>
    </FormDialog>
  );
}
