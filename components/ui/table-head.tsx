// The header row of a plain table (short lists a page already holds: results, a node's DPUs, events, quotas): one
// column header per entry, "" for a row-actions column that only screen readers read. `tone` is the table's look
// (boxed like DataTable, or plain inside a section); `first`, `cell` and `last` are the cells' padding.
const tones = {
  boxed: "bg-zinc-50 text-xs text-zinc-600 uppercase dark:bg-zinc-900 dark:text-zinc-400",
  plain: "text-xs text-zinc-600 uppercase dark:text-zinc-400",
  muted: "text-xs text-zinc-500 uppercase",
};

export function TableHead({
  columns,
  tone,
  cell,
  first = cell,
  last = cell,
}: {
  columns: readonly React.ReactNode[];
  tone: keyof typeof tones;
  cell?: string;
  first?: string;
  last?: string;
}) {
  return (
    <thead className={tones[tone]}>
      <tr>
        {columns.map((c, i) => (
          <th key={i} scope="col" className={i === 0 ? first : i === columns.length - 1 ? last : cell}>
            {c === "" ? <span className="sr-only">Actions</span> : c}
          </th>
        ))}
      </tr>
    </thead>
  );
}
