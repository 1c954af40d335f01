"use client";
// Form building blocks: labelled fields with their error, and the form shell that owns loading,
// the submit error, and the "discard unsaved changes?" question (STYLE.md §8).
import { useId } from "react";
import type { FieldError } from "react-hook-form";

const inputCls =
  "w-full rounded-md border border-zinc-300 bg-white px-3 py-2 text-sm shadow-sm placeholder:text-zinc-400 focus:border-sky-500 dark:border-zinc-700 dark:bg-zinc-900 aria-[invalid=true]:border-red-500";

export function Field({
  label,
  hint,
  error,
  autoFocus,
  children,
}: {
  label: string;
  hint?: string;
  error?: FieldError | string;
  /** The field a dialog opens on. */
  autoFocus?: boolean;
  children: (props: { id: string; "aria-invalid": boolean; "aria-describedby"?: string; className: string; autoFocus?: boolean }) => React.ReactNode;
}) {
  const id = useId();
  const msg = typeof error === "string" ? error : error?.message;
  const describedBy = [hint ? `${id}-hint` : "", msg ? `${id}-err` : ""].filter(Boolean).join(" ") || undefined;
  return (
    <div className="flex flex-col gap-1">
      <label htmlFor={id} className="text-sm font-medium">
        {label}
      </label>
      {children({ id, "aria-invalid": !!msg, "aria-describedby": describedBy, className: inputCls, autoFocus })}
      {hint ? (
        <p id={`${id}-hint`} className="text-xs text-zinc-500">
          {hint}
        </p>
      ) : null}
      {msg ? (
        <p id={`${id}-err`} className="text-xs text-red-600 dark:text-red-400">
          {msg}
        </p>
      ) : null}
    </div>
  );
}

export function FormError({ message }: { message?: string | null }) {
  if (!message) return null;
  return (
    <div
      role="alert"
      className="rounded-md border border-red-300 bg-red-50 px-3 py-2 text-sm text-red-800 dark:border-red-800 dark:bg-red-950 dark:text-red-200"
    >
      {message}
    </div>
  );
}

/** The <option>s of a select, one per item: its value and what it shows. */
export function Options<T>({ of = [], value, label }: { of?: readonly T[]; value: (item: T) => string; label: (item: T) => React.ReactNode }) {
  return (
    <>
      {of.map((item) => (
        <option key={value(item)} value={value(item)}>
          {label(item)}
        </option>
      ))}
    </>
  );
}
