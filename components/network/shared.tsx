"use client";
// Small pieces the network pages share: a server-error → form-field mapper (server field names like
// "reservedRanges.1" land on the field the form shows) and the search box.
import type { FieldValues, Path, UseFormReturn } from "react-hook-form";
import { errorInfo } from "@/components/trpc";

/** Puts server field errors on the form's fields; returns the message for the form-level alert when none fit. */
export function placeServerErrors<T extends FieldValues>(form: UseFormReturn<T>, e: unknown, fields: readonly Path<T>[]): string | null {
  const info = errorInfo(e);
  let placed = false;
  for (const [key, msgs] of Object.entries(info.fieldErrors)) {
    const field = fields.find((f) => key === f || key.startsWith(`${f}.`));
    if (field) {
      form.setError(field, { message: msgs[0] });
      placed = true;
    }
  }
  return placed ? null : info.message;
}

export function SearchBox({ value, onChange, label, placeholder }: { value: string; onChange: (v: string) => void; label: string; placeholder: string }) {
  return (
    <input
      type="search"
      value={value}
      onChange={(e) => onChange(e.target.value)}
      placeholder={placeholder}
      aria-label={label}
      className="w-80 rounded-md border border-zinc-300 bg-white px-3 py-1.5 text-sm dark:border-zinc-700 dark:bg-zinc-900"
    />
  );
}
