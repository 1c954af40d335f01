"use client";
// "Bulk enroll (CSV)": reads the chosen file as text, hands it to `nodes.enrollBulk`, watches the returned
// operation (polling every second) and then lists every row's result (line, name, ok, message).
import { TableHead } from "@/components/ui/table-head";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useEffect, useState } from "react";
import { isFinished, OperationProgress, useOperation } from "@/components/operations/operation-progress";
import { errorInfo, useTRPC } from "@/components/trpc";
import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { Dialog } from "@/components/ui/dialog";
import { Field, FormError } from "@/components/ui/form";

type RowResult = { line: number; name: string; ok: boolean; message: string; nodeId?: string };

export function BulkEnrollDialog({ onClose }: { onClose: () => void }) {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const [file, setFile] = useState<File | null>(null);
  const [fieldErr, setFieldErr] = useState<string | null>(null);
  const [submitError, setSubmitError] = useState<string | null>(null);
  const [opId, setOpId] = useState<string | null>(null);
  const op = useOperation(opId);
  const start = useMutation(
    trpc.nodes.enrollBulk.mutationOptions({
      onSuccess: (r) => setOpId(r.operationId),
      onError: (e) => {
        const info = errorInfo(e);
        if (info.fieldErrors.csv) setFieldErr(info.fieldErrors.csv[0] ?? info.message);
        else setSubmitError(info.message);
      },
    }),
  );
  const finished = isFinished(op.data);
  // The list behind the dialog shows the new nodes as soon as the operation ends.
  useEffect(() => {
    if (finished) void qc.invalidateQueries(trpc.nodes.pathFilter());
  }, [finished, qc, trpc]);

  const upload = async (e: React.FormEvent) => {
    e.preventDefault();
    setSubmitError(null);
    if (!file) return setFieldErr("Choose a CSV file");
    if (file.size > 4 * 1024 * 1024) return setFieldErr("At most 4 MiB");
    const csv = await file.text();
    if (!csv.trim()) return setFieldErr("The file is empty");
    setFieldErr(null);
    start.mutate({ csv });
  };
  const rows = ((op.data?.result as { rows?: RowResult[] } | null | undefined)?.rows ?? []) as RowResult[];

  return (
    <Dialog open onClose={onClose} title="Bulk enroll (CSV)" wide>
      {!opId ? (
        <form noValidate onSubmit={upload} className="flex flex-col gap-4">
          <FormError message={submitError} />
          <p className="text-sm text-zinc-600 dark:text-zinc-400">
            One node per row with a header line. Columns: <code className="text-xs">name, pool, driver, bmc_address, bmc_username, bmc_password</code>, and
            optionally{" "}
            <code className="text-xs">
              verify_tls, dpu_bmc_address, dpu_bmc_username, dpu_bmc_password, agent_url, agent_token, dedicated_power, dpu_bmc_driver, traits
            </code>
            . Every BMC is probed before its node is enrolled.
          </p>
          <Field label="CSV file" error={fieldErr ?? undefined}>
            {(p) => (
              <input
                {...p}
                type="file"
                accept=".csv,text/csv"
                onChange={(e) => {
                  setFile(e.target.files?.[0] ?? null);
                  setFieldErr(null);
                }}
              />
            )}
          </Field>
          <div className="flex justify-end gap-2">
            <Button onClick={onClose}>Cancel</Button>
            <Button type="submit" variant="primary" busy={start.isPending}>
              Upload and enroll
            </Button>
          </div>
        </form>
      ) : (
        <div className="flex flex-col gap-4">
          {op.data ? <OperationProgress operation={op.data} /> : <p className="text-sm text-zinc-500">Starting…</p>}
          {op.error ? <FormError message={errorInfo(op.error).message} /> : null}
          {finished && rows.length ? (
            <div className="max-h-80 overflow-y-auto rounded-md border border-zinc-200 dark:border-zinc-800">
              <table aria-label="Enrollment results" className="w-full text-left text-sm">
                <TableHead columns={["Line", "Name", "Result", "Message"]} tone="boxed" cell="px-3 py-1.5" />
                <tbody className="divide-y divide-zinc-100 dark:divide-zinc-800">
                  {rows.map((r) => (
                    <tr key={`${r.line}-${r.name}`}>
                      <td className="px-3 py-1.5 tabular-nums">{r.line}</td>
                      <td className="px-3 py-1.5 font-medium whitespace-nowrap">{r.name}</td>
                      <td className="px-3 py-1.5">{r.ok ? <Badge tone="green">ok</Badge> : <Badge tone="red">failed</Badge>}</td>
                      <td className="px-3 py-1.5">{r.message}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          ) : null}
          <div className="flex justify-end">
            <Button variant="primary" onClick={onClose}>
              {finished ? "Close" : "Close (keeps running)"}
            </Button>
          </div>
        </div>
      )}
    </Dialog>
  );
}
