"use client";
// Buttons. A button that a rule forbids stays visible and focusable, marked aria-disabled, with the reason
// as its description and tooltip (STYLE.md §7: disabled with the reason, not hidden).
import { forwardRef, useId } from "react";

type Variant = "primary" | "secondary" | "danger" | "ghost";
const styles: Record<Variant, string> = {
  primary: "bg-sky-600 text-white hover:bg-sky-700 dark:bg-sky-500 dark:hover:bg-sky-400 dark:text-zinc-950",
  secondary: "border border-zinc-300 bg-white text-zinc-900 hover:bg-zinc-50 dark:border-zinc-700 dark:bg-zinc-900 dark:text-zinc-100 dark:hover:bg-zinc-800",
  danger: "bg-red-600 text-white hover:bg-red-700",
  ghost: "text-zinc-700 hover:bg-zinc-100 dark:text-zinc-300 dark:hover:bg-zinc-800",
};

export interface ButtonProps extends React.ButtonHTMLAttributes<HTMLButtonElement> {
  variant?: Variant;
  size?: "sm" | "md";
  /** When set, the button is disabled and this says why. */
  disabledReason?: string | null;
  busy?: boolean;
}

export const Button = forwardRef<HTMLButtonElement, ButtonProps>(function Button(
  { variant = "secondary", size = "md", disabledReason, busy, className = "", onClick, children, type = "button", ...rest },
  ref,
) {
  const reasonId = useId();
  const blocked = !!disabledReason || busy || rest.disabled;
  return (
    <span className="group relative inline-flex">
      <button
        ref={ref}
        type={type}
        {...rest}
        disabled={rest.disabled}
        aria-disabled={blocked || undefined}
        aria-describedby={disabledReason ? reasonId : rest["aria-describedby"]}
        title={disabledReason ?? rest.title}
        onClick={(e) => {
          if (blocked) {
            e.preventDefault();
            return;
          }
          onClick?.(e);
        }}
        className={`inline-flex items-center justify-center gap-2 rounded-md font-medium transition-colors ${
          size === "sm" ? "px-2.5 py-1 text-xs" : "px-3.5 py-2 text-sm"
        } ${styles[variant]} ${blocked ? "cursor-not-allowed opacity-50" : ""} ${className}`}
      >
        {busy ? <span aria-hidden className="size-3 animate-spin rounded-full border-2 border-current border-t-transparent" /> : null}
        {children}
      </button>
      {disabledReason ? (
        <span
          id={reasonId}
          role="tooltip"
          className="pointer-events-none invisible absolute top-full left-0 z-30 mt-1 w-64 rounded bg-zinc-900 px-2 py-1 text-xs text-white group-focus-within:visible group-hover:visible dark:bg-zinc-100 dark:text-zinc-900"
        >
          {disabledReason}
        </span>
      ) : null}
    </span>
  );
});

/** A button a page header or a table row offers: its text, its accessible name when the text alone is ambiguous
 *  (a row's "Delete"), why it is off, and what it does. */
export interface Action {
  label: React.ReactNode;
  onClick: () => void;
  name?: string;
  disabledReason?: string | null;
  variant?: Variant;
  /** The action is under way (the button spins). */
  busy?: boolean;
}

/** Buttons from a list of actions; `false`/`null` entries are actions this row or page does not offer. */
export function ActionButtons({ actions, size }: { actions: readonly (Action | false | null | undefined)[]; size?: "sm" }) {
  return (
    <>
      {actions.map((a, i) =>
        a ? (
          <Button key={i} size={size} variant={a.variant} aria-label={a.name} disabledReason={a.disabledReason} busy={a.busy} onClick={a.onClick}>
            {a.label}
          </Button>
        ) : null,
      )}
    </>
  );
}
