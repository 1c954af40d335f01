"use client";
// Tables over server-side lists (TanStack Table in manual mode): sortable headers with aria-sort,
// loading/empty/error states, and cursor paging (previous/next). The server does filter, sort and paging.
import { type ColumnDef, flexRender, getCoreRowModel, useReactTable } from "@tanstack/react-table";
import { Button } from "./button";

export interface SortState<K extends string> {
  key: K;
  dir: "asc" | "desc";
}

export function DataTable<T, K extends string>({
  label,
  columns,
  rows,
  sort,
  sortable,
  onSort,
  loading,
  error,
  empty,
  page,
}: {
  label: string;
  columns: ColumnDef<T, unknown>[];
  rows: T[];
  sort?: SortState<K>;
  sortable?: readonly K[];
  onSort?: (s: SortState<K>) => void;
  loading?: boolean;
  error?: string | null;
  empty: React.ReactNode;
  page?: { hasPrev: boolean; hasNext: boolean; onPrev: () => void; onNext: () => void; summary?: string };
}) {
  const table = useReactTable({ data: rows, columns, getCoreRowModel: getCoreRowModel(), manualSorting: true, manualPagination: true });
  return (
    <div className="flex flex-col gap-3">
      <div className="overflow-x-auto rounded-lg border border-zinc-200 dark:border-zinc-800">
        <table aria-label={label} aria-busy={loading || undefined} className="w-full text-left text-sm">
          <thead className="bg-zinc-50 text-xs text-zinc-600 uppercase dark:bg-zinc-900 dark:text-zinc-400">
            {table.getHeaderGroups().map((hg) => (
              <tr key={hg.id}>
                {hg.headers.map((h) => {
                  const key = h.column.id as K;
                  const canSort = sortable?.includes(key);
                  const active = sort?.key === key;
                  return (
                    <th
                      key={h.id}
                      scope="col"
                      className="px-4 py-2 font-medium"
                      aria-sort={active ? (sort!.dir === "asc" ? "ascending" : "descending") : undefined}
                    >
                      {canSort && onSort ? (
                        <button
                          type="button"
                          className="inline-flex items-center gap-1 uppercase hover:text-zinc-900 dark:hover:text-zinc-100"
                          onClick={() => onSort({ key, dir: active && sort!.dir === "asc" ? "desc" : "asc" })}
                        >
                          {flexRender(h.column.columnDef.header, h.getContext())}
                          <span aria-hidden>{active ? (sort!.dir === "asc" ? "▲" : "▼") : "↕"}</span>
                        </button>
                      ) : (
                        flexRender(h.column.columnDef.header, h.getContext())
                      )}
                    </th>
                  );
                })}
              </tr>
            ))}
          </thead>
          <tbody className="divide-y divide-zinc-100 dark:divide-zinc-800">
            {table.getRowModel().rows.map((r) => (
              <tr key={r.id} className="hover:bg-zinc-50 dark:hover:bg-zinc-900/60">
                {r.getVisibleCells().map((c) => (
                  <td key={c.id} className="px-4 py-2 align-middle">
                    {flexRender(c.column.columnDef.cell, c.getContext())}
                  </td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
        {error ? (
          <p role="alert" className="px-4 py-6 text-sm text-red-700 dark:text-red-300">
            {error}
          </p>
        ) : loading && rows.length === 0 ? (
          <p className="px-4 py-6 text-sm text-zinc-500">Loading…</p>
        ) : rows.length === 0 ? (
          <div className="p-4">{empty}</div>
        ) : null}
      </div>
      {page && (page.hasPrev || page.hasNext) ? (
        <div className="flex items-center justify-between text-sm text-zinc-600 dark:text-zinc-400">
          <span>{page.summary}</span>
          <div className="flex gap-2">
            <Button size="sm" onClick={page.onPrev} disabledReason={page.hasPrev ? null : "This is the first page."}>
              Previous
            </Button>
            <Button size="sm" onClick={page.onNext} disabledReason={page.hasNext ? null : "This is the last page."}>
              Next
            </Button>
          </div>
        </div>
      ) : null}
    </div>
  );
}
