"use client";
// The step both two-factor dialogs start with: "Your password", Cancel and the step's submit button.
import type { UseFormReturn } from "react-hook-form";
import type { z } from "zod";
import { Button } from "@/components/ui/button";
import { Field } from "@/components/ui/form";
import type { passwordOnly } from "./two-factor-shared";

export function PasswordStep({
  form,
  onSubmit,
  onClose,
  submitLabel,
  variant,
  children,
}: {
  form: UseFormReturn<z.infer<typeof passwordOnly>>;
  onSubmit: (e: React.FormEvent<HTMLFormElement>) => void;
  onClose: () => void;
  submitLabel: string;
  variant: "primary" | "danger";
  /** What the step says above the field. */
  children?: React.ReactNode;
}) {
  return (
    <form onSubmit={onSubmit} noValidate className="flex flex-col gap-4">
      {children}
      <Field label="Your password" error={form.formState.errors.password}>
        {(p) => <input {...p} type="password" autoComplete="current-password" {...form.register("password")} />}
      </Field>
      <div className="flex justify-end gap-2">
        <Button onClick={onClose}>Cancel</Button>
        <Button type="submit" variant={variant} busy={form.formState.isSubmitting}>
          {submitLabel}
        </Button>
      </div>
    </form>
  );
}
