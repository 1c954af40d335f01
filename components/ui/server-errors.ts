"use client";
// The one way a server error reaches a form: field errors the server names (a duplicate name, a CIDR that
// overlaps, "reservedRanges.1") land on the form field they belong to; what no field takes is the form's
// message. Forms get this through FormDialog; hand-rolled forms call placeServerErrors.
import { errorInfo } from "@/components/trpc";

/** The field a server error key belongs to: the key itself or its parent ("limits.vcpus" → "limits"). */
function fieldOf<F extends string>(key: string, fields: readonly F[]): F | undefined {
  return fields.find((f) => key === f || key.startsWith(`${f}.`));
}

/** Splits a failed call (or a message of the form's own) into per-field messages and the form's message. */
export function splitServerError<F extends string>(err: unknown, fields: readonly F[]): { fields: [F, string][]; message: string | null } {
  if (err === null || err === undefined || err === false) return { fields: [], message: null };
  if (typeof err === "string") return { fields: [], message: err };
  const info = errorInfo(err);
  const placed: [F, string][] = [];
  for (const [key, msgs] of Object.entries(info.fieldErrors)) {
    const field = fieldOf(key, fields);
    if (field && msgs[0]) placed.push([field, msgs[0]]);
  }
  return { fields: placed, message: placed.length > 0 ? null : info.message };
}

/** Puts server field errors on fields through `setField`; returns the message for the form-level alert when none fit. */
export function placeServerErrors<F extends string>(err: unknown, fields: readonly F[], setField: (field: F, message: string) => void): string | null {
  const split = splitServerError(err, fields);
  for (const [f, m] of split.fields) setField(f, m);
  return split.message;
}

/** For forms kept outside react-hook-form: each named field's server message (FormDialog shows the rest). */
export function fieldMessages<F extends string>(err: unknown, fields: readonly F[], prefix = ""): Partial<Record<F, string>> {
  return Object.fromEntries(
    splitServerError(
      err,
      fields.map((f) => `${prefix}${f}`),
    ).fields.map(([k, m]) => [k.slice(prefix.length), m]),
  ) as Partial<Record<F, string>>;
}

/** For a form with one input: the error it shows under that input (its own message, else the call's). */
export function oneFieldError(err: unknown, field: string): string | undefined {
  if (!err) return undefined;
  return fieldMessages(err, [field])[field] ?? errorInfo(err).message;
}
