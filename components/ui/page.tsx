// Page furniture: headers, empty states, and the plain "not built yet" notice for sections to come.
import { type Action, ActionButtons } from "./button";

/** The page's title, what it is for, and its actions (buttons from `buttons`, or any `actions`). */
export function PageHeader({
  title,
  description,
  buttons,
  actions = buttons ? <ActionButtons actions={buttons} /> : undefined,
}: {
  title: string;
  description?: React.ReactNode;
  buttons?: readonly (Action | false | null | undefined)[];
  actions?: React.ReactNode;
}) {
  return (
    <div className="mb-6 flex flex-wrap items-start justify-between gap-4">
      <div>
        <h1 className="text-2xl font-semibold tracking-tight">{title}</h1>
        {description ? <p className="mt-1 text-sm text-zinc-600 dark:text-zinc-400">{description}</p> : null}
      </div>
      {actions ? <div className="flex gap-2">{actions}</div> : null}
    </div>
  );
}

export function EmptyState({ title, body, action }: { title: string; body?: string; action?: React.ReactNode }) {
  return (
    <div className="flex flex-col items-center gap-2 rounded-lg border border-dashed border-zinc-300 px-6 py-12 text-center dark:border-zinc-700">
      <p className="font-medium">{title}</p>
      {body ? <p className="max-w-md text-sm text-zinc-600 dark:text-zinc-400">{body}</p> : null}
      {action}
    </div>
  );
}

export function NotBuiltYet({ title, what }: { title: string; what: string }) {
  return (
    <div>
      <PageHeader title={title} />
      <div
        role="note"
        className="rounded-lg border border-amber-300 bg-amber-50 px-5 py-4 text-sm text-amber-900 dark:border-amber-800 dark:bg-amber-950 dark:text-amber-100"
      >
        <p className="font-medium">Not built yet.</p>
        <p className="mt-1">{what} This section shows no data until it exists; nothing here is simulated.</p>
      </div>
    </div>
  );
}
