"use client";
// An image's SHA-256 as a person uses it: monospace, selectable, with a Copy button (to compare with the checksum
// a distribution publishes), and the dialog that shows it once an upload or an import has made the image.
import { useState } from "react";
import { Button } from "@/components/ui/button";
import { Dialog } from "@/components/ui/dialog";

export function Checksum({ value, short }: { value: string | null; short?: boolean }) {
  const [copied, setCopied] = useState(false);
  if (!value) return <span className="text-gray-500">—</span>;
  return (
    <span className="inline-flex items-center gap-2">
      <code className="font-mono text-xs break-all" title={`SHA-256 ${value}`}>
        {short ? `${value.slice(0, 12)}…` : value}
      </code>
      <Button
        size="sm"
        aria-label={copied ? "SHA-256 copied" : "Copy SHA-256"}
        onClick={() => {
          void navigator.clipboard?.writeText(value).then(() => setCopied(true));
        }}
      >
        {copied ? "Copied" : "Copy"}
      </Button>
    </span>
  );
}

export function ImageCreatedDialog({ image, verb, onClose }: { image: { name: string; checksumSha256: string | null }; verb: string; onClose: () => void }) {
  return (
    <Dialog open onClose={onClose} title={`Image ${image.name} ${verb}`}>
      <div className="flex flex-col gap-3">
        <p>Its bytes are stored; compare the checksum with the one the image's publisher gives.</p>
        <div>
          <div className="text-sm font-medium">SHA-256</div>
          <Checksum value={image.checksumSha256} />
        </div>
        <div className="flex justify-end">
          <Button variant="primary" onClick={onClose}>
            Done
          </Button>
        </div>
      </div>
    </Dialog>
  );
}
