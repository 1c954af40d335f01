"use client";
// The form-dialog shell (STYLE.md §8) and its input primitives. The shell owns what every form repeats:
// the submit button's busy state, the submit error (server field errors such as a duplicate name land on
// their field; the rest is the form's alert), Cancel, and "Discard unsaved changes?" when closing a dirty
// form. Loading and the submit error are required, so a form cannot forget them. A create form is then its
// fields and its mutation.
import { useEffect, useMemo } from "react";
import {
  type FieldValues,
  FormProvider,
  type Path,
  type RegisterOptions,
  type UseFormRegisterReturn,
  type UseFormReturn,
  useFormContext,
} from "react-hook-form";
import { Button } from "./button";
import { Dialog } from "./dialog";
import { Field, FormError } from "./form";
import { splitServerError } from "./server-errors";

/** What the shell needs of the submit: it is under way (the button spins, closing does not ask), and its last
 *  failure (a call's error, or a message of the form's own; null when there is none). Both are required: a
 *  mutation carries them, or they are passed one by one. */
type Submit =
  | { mutation: { isPending: boolean; error: unknown }; loading?: never; submitError?: never }
  | { mutation?: never; loading: boolean; submitError: unknown };

export function FormDialog<T extends FieldValues>({
  title,
  form,
  fields,
  dirty,
  onSubmit,
  onClose,
  mutation,
  loading = mutation?.isPending ?? false,
  submitError = mutation?.error,
  submitLabel,
  submitDisabledReason,
  extraActions,
  wide,
  columns,
  children,
}: {
  title: string;
  /** The react-hook-form form: its fields see it through context, its dirtiness guards closing. */
  form?: UseFormReturn<T>;
  /** The fields server errors may name (default: the form's default values' keys). Without `form`, the
   *  caller shows these itself (fieldMessages) and the shell shows only what no field takes. */
  fields?: readonly string[];
  /** For forms kept outside react-hook-form: whether closing would lose input. */
  dirty?: boolean;
  /** What submitting does (the browser's own submit is already prevented). */
  onSubmit: (e: React.FormEvent<HTMLFormElement>) => void;
  onClose: () => void;
  submitLabel: React.ReactNode;
  submitDisabledReason?: string | null;
  /** Buttons on the footer's left, e.g. "Test connection". */
  extraActions?: React.ReactNode;
  wide?: boolean;
  /** Lay the fields out in two columns (wide forms). */
  columns?: boolean;
  children: React.ReactNode;
} & Submit) {
  const names = fields ?? Object.keys(form?.formState.defaultValues ?? {});
  const key = names.join("|");
  // biome-ignore lint/correctness/useExhaustiveDependencies: the field list is compared by its names (key)
  const split = useMemo(() => splitServerError(submitError, names), [submitError, key, form]);
  useEffect(() => {
    for (const [field, message] of split.fields) form?.setError(field as Path<T>, { message });
  }, [split, form]);
  const isDirty = dirty ?? form?.formState.isDirty ?? false;
  const close = () => {
    if (isDirty && !loading && !window.confirm("Discard unsaved changes?")) return;
    onClose();
  };
  return (
    <Dialog open onClose={close} title={title} wide={wide}>
      <form
        onSubmit={(e) => {
          e.preventDefault(); // the shell stops the browser's own submit; onSubmit only acts
          onSubmit(e);
        }}
        noValidate
        className={columns ? "grid grid-cols-1 gap-4 sm:grid-cols-2" : "flex flex-col gap-4"}
      >
        {columns ? (
          <div className="sm:col-span-2">
            <FormError message={split.message} />
          </div>
        ) : (
          <FormError message={split.message} />
        )}
        {form ? <FormProvider {...form}>{children}</FormProvider> : children}
        <div className={`flex ${extraActions ? "justify-between" : "justify-end"} gap-2 ${columns ? "sm:col-span-2" : ""}`}>
          {extraActions}
          <div className="flex gap-2">
            <Button onClick={close}>Cancel</Button>
            <Button type="submit" variant="primary" busy={loading} disabledReason={submitDisabledReason}>
              {submitLabel}
            </Button>
          </div>
        </div>
      </form>
    </Dialog>
  );
}

type FieldProps = { name: string; label: string; hint?: string; rules?: RegisterOptions };
type Control = Parameters<React.ComponentProps<typeof Field>["children"]>[0];

/** A Field bound to the surrounding FormDialog's form: its error is the form's, `control` draws the element from the
 *  field's props and the form's registration. */
function BoundField({ name, label, hint, rules, control }: FieldProps & { control: (p: Control, registered: UseFormRegisterReturn) => React.ReactNode }) {
  const { register, getFieldState, formState } = useFormContext();
  const registered = register(name, rules);
  return (
    <Field label={label} hint={hint} error={getFieldState(name, formState).error}>
      {(p) => control(p, registered)}
    </Field>
  );
}

/** A labelled text (or number, with rules.valueAsNumber) input bound to the surrounding FormDialog's form. */
export function TextField({ name, label, hint, rules, ...input }: FieldProps & Omit<React.InputHTMLAttributes<HTMLInputElement>, "name">) {
  return (
    <BoundField
      {...{ name, label, hint, rules }}
      control={(p, r) => <input {...p} {...input} className={`${p.className} ${input.className ?? ""}`} {...r} />}
    />
  );
}

export function TextAreaField({ name, label, hint, rules, ...input }: FieldProps & Omit<React.TextareaHTMLAttributes<HTMLTextAreaElement>, "name">) {
  return (
    <BoundField
      {...{ name, label, hint, rules }}
      control={(p, r) => <textarea {...p} {...input} className={`${p.className} ${input.className ?? ""}`} {...r} />}
    />
  );
}

export function SelectField({ name, label, hint, rules, children, ...input }: FieldProps & Omit<React.SelectHTMLAttributes<HTMLSelectElement>, "name">) {
  return (
    <BoundField
      {...{ name, label, hint, rules }}
      control={(p, r) => (
        <select {...p} {...input} {...r}>
          {children}
        </select>
      )}
    />
  );
}

export function CheckboxField({ name, children }: { name: string; children: React.ReactNode }) {
  const { register } = useFormContext();
  return (
    <label className="flex items-center gap-2 text-sm">
      <input type="checkbox" {...register(name)} /> {children}
    </label>
  );
}
