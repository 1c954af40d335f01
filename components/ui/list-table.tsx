"use client";
// One hook owns a paginated server list (STYLE.md §6): the query, its search box (the query gets the debounced
// text), the cursor stack (reset when the search, filter or sort changes), polling, and the loading/error/paging props DataTable takes. A page passes its query and
// columns and renders <ListView list label columns empty /> (its filter bar, the table, what an empty list says).
// Shared column helpers and the confirm-before-acting helper (delete, revoke…) live here too.
import { keepPreviousData, type QueryKey, type UseMutationOptions, type UseQueryOptions, useMutation, useQuery } from "@tanstack/react-query";
import type { ColumnDef } from "@tanstack/react-table";
import Link from "next/link";
import { useRef, useState } from "react";
import { errorInfo } from "@/components/trpc";
import { type Action, ActionButtons } from "./button";
import { DataTable, type SortState } from "./data-table";
import { ConfirmDialog } from "./dialog";
import { EmptyState } from "./page";
import { useToast } from "./toast";
import { useCursorPages, useDebounced } from "./use-cursor-pages";
import { type Invalidate, useDone } from "./use-done";

interface ListPage {
  items: unknown[];
  nextCursor?: string | null;
}

export function useListTable<TData extends ListPage, TKey extends QueryKey>(
  // biome-ignore lint/suspicious/noExplicitAny: tRPC's query options carry their own error type
  query: (cursor: string | null, q: string | undefined) => UseQueryOptions<TData, any, TData, TKey>,
  opts: {
    /** Filters and sort: when they change, paging starts again at the first page. */
    resetKey?: unknown;
    /** Refetch every n ms, or as the data says (faster while something is under way). */
    poll?: number | ((data: TData | undefined) => number | false);
    /** Show "Page n" beside the pager. */
    pageSummary?: boolean;
    /** Say "loading" only before the first page arrives, not on every refetch (polled lists always do). */
    quiet?: boolean;
  } = {},
) {
  const { poll, pageSummary = true } = opts;
  const quiet = opts.quiet || poll !== undefined;
  const search = useSearch();
  const pages = useCursorPages(JSON.stringify([search.dq, opts.resetKey ?? ""]));
  const list = useQuery({
    ...query(pages.cursor, search.dq || undefined),
    placeholderData: keepPreviousData,
    refetchInterval: poll === undefined ? undefined : typeof poll === "number" ? poll : (q) => poll(q.state.data),
  });
  const rows = (list.data?.items ?? []) as TData["items"];
  const nextCursor = list.data?.nextCursor;
  return {
    query: list,
    data: list.data,
    search,
    rows,
    table: {
      rows,
      // A polled (or quiet) list stays calm while it refreshes; a plain one says it is busy.
      loading: quiet ? list.isFetching && !list.data : list.isFetching,
      error: list.error ? errorInfo(list.error).message : null,
      page: {
        hasPrev: pages.hasPrev,
        hasNext: !!nextCursor,
        onPrev: pages.prev,
        onNext: () => pages.next(nextCursor),
        summary: pageSummary ? `Page ${pages.pageIndex + 1}` : undefined,
      },
    },
  };
}

/** A sort state with the props DataTable takes for it. */
export function useSort<K extends string>(initial: SortState<K>, sortable: readonly K[]) {
  const [sort, setSort] = useState(initial);
  return { sort, props: { sort, sortable, onSort: setSort } };
}

type TableState = ReturnType<typeof useListTable>["table"];

/**
 * A list as a page shows it: the filter bar (the search box, then `filters`; `bar` is its layout), the table with
 * its loading, error and paging states, and what the list says when empty (the page picks the words: with a filter
 * on, that nothing matches it).
 */
export function ListView<T, K extends string = string>({
  list,
  label,
  columns,
  sort,
  search,
  filters,
  bar = "mb-3",
  empty,
}: {
  list: { table: TableState; search: { box: { value: string; onChange: (v: string) => void } } };
  label: string;
  columns: ColumnDef<T, unknown>[];
  /** The sort state and the columns it may sort by (useSort's props). */
  sort?: { sort: SortState<K>; sortable: readonly K[]; onSort: (s: SortState<K>) => void };
  /** The list's search box: what it is called and what it suggests. */
  search?: Omit<React.ComponentProps<typeof SearchBox>, "value" | "onChange">;
  filters?: React.ReactNode;
  bar?: string;
  empty: React.ComponentProps<typeof EmptyState>;
}) {
  return (
    <>
      {search || filters ? (
        <div className={bar}>
          {search ? <SearchBox {...list.search.box} {...search} /> : null}
          {filters}
        </div>
      ) : null}
      <DataTable label={label} columns={columns} {...list.table} rows={list.table.rows as T[]} {...sort} empty={<EmptyState {...empty} />} />
    </>
  );
}

/** A search box's text and its debounced value (what the query uses). */
export function useSearch() {
  const [q, setQ] = useState("");
  const dq = useDebounced(q);
  return { q, setQ, dq, box: { value: q, onChange: setQ } };
}

export function SearchBox({
  value,
  onChange,
  label,
  placeholder,
  width = "w-80",
}: {
  value: string;
  onChange: (v: string) => void;
  label: string;
  placeholder: string;
  width?: string;
}) {
  return (
    <input
      type="search"
      value={value}
      onChange={(e) => onChange(e.target.value)}
      placeholder={placeholder}
      aria-label={label}
      className={`${width} rounded-md border border-zinc-300 bg-white px-3 py-1.5 text-sm dark:border-zinc-700 dark:bg-zinc-900`}
    />
  );
}

const selectCls = "rounded-md border border-zinc-300 bg-white px-2 py-1.5 text-sm dark:border-zinc-700 dark:bg-zinc-900";

/** A list filter as a plain select: options are [value, label] pairs. */
export function SelectFilter<V extends string>({
  label,
  value,
  onChange,
  options,
}: {
  label: string;
  value: V;
  onChange: (v: V) => void;
  options: readonly (readonly [V, string])[];
}) {
  return (
    <select aria-label={label} value={value} onChange={(e) => onChange(e.target.value as V)} className={selectCls}>
      {options.map(([v, l]) => (
        <option key={v} value={v}>
          {l}
        </option>
      ))}
    </select>
  );
}

/** A search input with its label above it (filter bars of several); `name` is what assistive tech calls it. */
export function FilterSearch({
  label,
  name,
  value,
  onChange,
  placeholder,
  className = "w-56 rounded-md border border-zinc-300 bg-white px-3 py-1.5 text-sm dark:border-zinc-700 dark:bg-zinc-900",
}: {
  label: string;
  name: string;
  value: string;
  onChange: (v: string) => void;
  placeholder: string;
  className?: string;
}) {
  return (
    <label className="flex flex-col gap-0.5 text-xs text-zinc-600 dark:text-zinc-400">
      {label}
      <input type="search" aria-label={name} value={value} onChange={(e) => onChange(e.target.value)} placeholder={placeholder} className={className} />
    </label>
  );
}

/** A filter select with its label above it (filter bars of several): "" is Any; a plain value shows with "_" as a space. */
export function FilterSelect<V extends string>({
  label,
  value,
  onChange,
  options,
}: {
  label: string;
  value: V | "";
  onChange: (v: V | "") => void;
  options: readonly (V | readonly [V, string])[];
}) {
  return (
    <label className="flex flex-col gap-0.5 text-xs text-zinc-600 dark:text-zinc-400">
      {label}
      <select aria-label={label} value={value} onChange={(e) => onChange(e.target.value as V | "")} className={selectCls}>
        <option value="">Any</option>
        {options.map((o) => {
          const [v, l] = typeof o === "string" ? [o, o.replace("_", " ")] : o;
          return (
            <option key={v} value={v}>
              {l}
            </option>
          );
        })}
      </select>
    </label>
  );
}

/** Column helpers for one row type: `const col = columns<VpcRow>()`, then `col.code("cidr", "IPv4 range", (r) => r.cidr)`. */
export function columns<T>() {
  type Get<V> = (row: T) => V;
  const cell = (id: string, header: string, render: (row: T) => React.ReactNode): ColumnDef<T, unknown> => ({
    id,
    header,
    cell: ({ row }) => render(row.original),
  });
  const actions = (render: (row: T) => React.ReactNode): ColumnDef<T, unknown> => ({
    id: "actions",
    header: () => <span className="sr-only">Actions</span>,
    cell: ({ row }) => <div className="flex justify-end gap-2">{render(row.original)}</div>,
  });
  return {
    cell,
    text: (id: string, header: string, get: Get<React.ReactNode>) => cell(id, header, (r) => <span className="font-medium">{get(r)}</span>),
    muted: (id: string, header: string, get: Get<React.ReactNode>) =>
      cell(id, header, (r) => <span className="text-zinc-600 dark:text-zinc-400">{get(r)}</span>),
    code: (id: string, header: string, get: Get<React.ReactNode>) => cell(id, header, (r) => <code className="text-xs">{get(r)}</code>),
    /** A code value that may be absent (shown as a dash). */
    optionalCode: (id: string, header: string, get: Get<React.ReactNode | null | undefined>) =>
      cell(id, header, (r) => {
        const v = get(r);
        return v ? <code className="text-xs">{v}</code> : <span className="text-zinc-400">—</span>;
      }),
    count: (id: string, header: string, get: Get<React.ReactNode>) => cell(id, header, (r) => <span className="tabular-nums">{get(r)}</span>),
    date: (id: string, header: string, get: Get<Date | string>) => cell(id, header, (r) => new Date(get(r)).toLocaleString()),
    link: (id: string, header: string, get: Get<React.ReactNode>, href: Get<string>) =>
      cell(id, header, (r) => (
        <Link href={href(r)} className="font-medium text-sky-700 hover:underline dark:text-sky-400">
          {get(r)}
        </Link>
      )),
    /** The row-actions column: right-aligned buttons, a header only screen readers read. */
    actions,
    /** The row-actions column from the row's actions (small buttons, see Action). */
    buttons: (get: (row: T) => readonly (Action | false | null | undefined)[]) => actions((r) => <ActionButtons size="sm" actions={get(r)} />),
  };
}

/**
 * Confirm, then act (delete, revoke, detach…): the row asked about, the mutation, its toasts (success and
 * error: confirm dialogs report through toasts, STYLE.md §9) and the lists to refetch. Render <ConfirmAction of={…} />.
 */
export function useConfirmAction<Row, TVars>({
  mutation,
  vars,
  success,
  invalidate,
  then,
}: {
  // biome-ignore lint/suspicious/noExplicitAny: tRPC's mutation options carry their own result and error types
  mutation: (o: { onSuccess: () => Promise<void>; onError: (e: unknown) => void }) => UseMutationOptions<any, any, TVars, any>;
  vars: (row: Row) => TVars;
  success: (row: Row) => string;
  invalidate: Invalidate | Invalidate[];
  then?: (row: Row) => void;
}) {
  const toast = useToast();
  const done = useDone();
  const [target, setTarget] = useState<Row | null>(null);
  const acting = useRef<Row | null>(null);
  const m = useMutation(
    mutation({
      onSuccess: async () => {
        const row = acting.current;
        setTarget(null);
        if (row) await done(success(row), invalidate, () => then?.(row));
      },
      onError: (e) => toast("error", errorInfo(e).message),
    }),
  );
  return {
    target,
    ask: setTarget,
    busy: m.isPending,
    close: () => setTarget(null),
    confirm: () => {
      if (!target) return;
      acting.current = target;
      m.mutate(vars(target));
    },
  };
}

export function ConfirmAction<Row>({
  of,
  title,
  body,
  confirmLabel,
}: {
  of: { target: Row | null; busy: boolean; close: () => void; confirm: () => void };
  title: (row: Row) => string;
  body: (row: Row) => React.ReactNode;
  confirmLabel: string;
}) {
  return (
    <ConfirmDialog
      open={!!of.target}
      title={of.target ? title(of.target) : ""}
      body={of.target ? body(of.target) : null}
      confirmLabel={confirmLabel}
      busy={of.busy}
      onConfirm={of.confirm}
      onClose={of.close}
    />
  );
}
