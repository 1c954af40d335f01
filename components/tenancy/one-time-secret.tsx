"use client";
// Shows a secret (a temporary password or an API token) exactly once, with a copy button. Closing it is final:
// the server keeps only a hash, so the dialog says so.
import { useState } from "react";
import { Button } from "@/components/ui/button";
import { Dialog } from "@/components/ui/dialog";

export function OneTimeSecret({
  title,
  label,
  secret,
  explanation,
  onClose,
}: {
  title: string;
  label: string;
  secret: string;
  explanation: string;
  onClose: () => void;
}) {
  const [copied, setCopied] = useState(false);
  return (
    <Dialog open onClose={onClose} title={title}>
      <div className="flex flex-col gap-3">
        <p className="text-sm text-zinc-600 dark:text-zinc-400">{explanation}</p>
        <label className="flex flex-col gap-1 text-sm font-medium">
          {label}
          <input
            readOnly
            value={secret}
            aria-label={label}
            onFocus={(e) => e.currentTarget.select()}
            className="rounded-md border border-zinc-300 bg-zinc-50 px-3 py-2 font-mono text-sm dark:border-zinc-700 dark:bg-zinc-950"
          />
        </label>
        <p role="note" className="text-xs text-amber-700 dark:text-amber-300">
          This is shown only once. Anvil does not keep it in a form it can show again.
        </p>
        <div className="flex justify-end gap-2">
          <Button
            onClick={async () => {
              await navigator.clipboard?.writeText(secret).catch(() => {});
              setCopied(true);
            }}
          >
            {copied ? "Copied" : "Copy"}
          </Button>
          <Button variant="primary" onClick={onClose}>
            Done
          </Button>
        </div>
      </div>
    </Dialog>
  );
}
