"use client";
// "Turn on two-factor": your password → scan the QR code or type the key → save the backup codes (shown once) → a
// code from the app to finish.
import { zodResolver } from "@hookform/resolvers/zod";
import { useMemo, useState } from "react";
import { useForm } from "react-hook-form";
import { encode } from "uqr";
import type { z } from "zod";
import { authClient } from "@/components/auth/auth-client";
import { Button } from "@/components/ui/button";
import { Dialog } from "@/components/ui/dialog";
import { Field, FormError } from "@/components/ui/form";
import { useToast } from "@/components/ui/toast";
import { PasswordStep } from "./password-step";
import { authErrorMessage, codeOnly, passwordOnly } from "./two-factor-shared";

function QrCode({ text, label }: { text: string; label: string }) {
  const qr = useMemo(() => encode(text, { ecc: "M", border: 2 }), [text]);
  const cells: string[] = [];
  for (const [y, row] of qr.data.entries()) for (const [x, dark] of row.entries()) if (dark) cells.push(`M${x} ${y}h1v1h-1z`);
  return (
    <svg role="img" aria-label={label} viewBox={`0 0 ${qr.size} ${qr.size}`} className="size-48 rounded bg-white" shapeRendering="crispEdges">
      <rect width={qr.size} height={qr.size} fill="#fff" />
      <path d={cells.join("")} fill="#000" />
    </svg>
  );
}

export function EnableTwoFactorDialog({ onClose, onDone }: { onClose: () => void; onDone: () => void }) {
  const toast = useToast();
  const [setup, setSetup] = useState<{ uri: string; secret: string; backupCodes: string[] } | null>(null);
  const [error, setError] = useState<string | null>(null);
  const pw = useForm<z.infer<typeof passwordOnly>>({ resolver: zodResolver(passwordOnly), defaultValues: { password: "" } });
  const code = useForm<z.infer<typeof codeOnly>>({ resolver: zodResolver(codeOnly), defaultValues: { code: "" } });
  const start = pw.handleSubmit(async ({ password }) => {
    setError(null);
    const res = await authClient.twoFactor.enable({ password });
    if (res.error || !res.data) {
      const msg = res.error ? authErrorMessage(res.error) : "Could not start the setup; try again.";
      if (msg === "That is not your current password.") pw.setError("password", { message: "That is not your password." }, { shouldFocus: true });
      else setError(msg);
      return;
    }
    const data = res.data as { totpURI?: string; backupCodes?: string[] };
    const uri = data.totpURI ?? "";
    setSetup({ uri, secret: new URL(uri).searchParams.get("secret") ?? "", backupCodes: data.backupCodes ?? [] });
  });
  const finish = code.handleSubmit(async ({ code: c }) => {
    setError(null);
    const res = await authClient.twoFactor.verifyTotp({ code: c });
    if (res.error) {
      if (res.error.status === 429) setError("Too many attempts. Wait a little and try again.");
      else
        code.setError(
          "code",
          { message: "That code is not right. Check that your device's clock is correct and try the current code." },
          { shouldFocus: true },
        );
      return;
    }
    toast("success", "Two-factor is on. You will be asked for a code at your next sign-in.");
    onDone();
  });
  return (
    <Dialog open onClose={onClose} title="Turn on two-factor" wide>
      <FormError message={error} />
      {!setup ? (
        <PasswordStep form={pw} onSubmit={start} onClose={onClose} submitLabel="Continue" variant="primary" />
      ) : (
        <form onSubmit={finish} noValidate className="flex flex-col gap-4">
          <ol className="flex list-decimal flex-col gap-3 pl-5 text-sm">
            <li>
              Scan this with your authenticator app, or{" "}
              <a className="text-sky-700 underline dark:text-sky-400" href={setup.uri}>
                open it in the app
              </a>
              , or type the key.
              <div className="mt-2 flex flex-wrap items-center gap-4">
                <QrCode text={setup.uri} label="QR code for your authenticator app" />
                <div className="flex flex-col gap-1">
                  <span id="tf-key" className="text-xs text-zinc-500">
                    Key
                  </span>
                  <code aria-describedby="tf-key" className="rounded bg-zinc-100 px-2 py-1 font-mono text-sm break-all dark:bg-zinc-800" data-testid="totp-key">
                    {setup.secret.replace(/(.{4})/g, "$1 ").trim()}
                  </code>
                </div>
              </div>
            </li>
            <li>
              Save these backup codes somewhere safe. Each one signs you in once if you lose your device. They are shown only now.
              <ul aria-label="Backup codes" className="mt-2 grid grid-cols-2 gap-1 font-mono text-sm sm:grid-cols-3">
                {setup.backupCodes.map((c) => (
                  <li key={c} className="rounded bg-zinc-100 px-2 py-0.5 dark:bg-zinc-800">
                    {c}
                  </li>
                ))}
              </ul>
              <Button
                size="sm"
                className="mt-2"
                onClick={() =>
                  navigator.clipboard
                    .writeText(setup.backupCodes.join("\n"))
                    .then(() => toast("success", "Backup codes copied."))
                    .catch(() => toast("error", "Could not copy; select and copy them by hand."))
                }
              >
                Copy backup codes
              </Button>
            </li>
            <li>
              Enter the code your app shows now to finish.
              <div className="mt-2 max-w-48">
                <Field label="Code from the app" error={code.formState.errors.code}>
                  {(p) => <input {...p} inputMode="numeric" autoComplete="one-time-code" {...code.register("code")} />}
                </Field>
              </div>
            </li>
          </ol>
          <div className="flex justify-end gap-2">
            <Button onClick={onClose}>Cancel</Button>
            <Button type="submit" variant="primary" busy={code.formState.isSubmitting}>
              Turn on
            </Button>
          </div>
        </form>
      )}
    </Dialog>
  );
}
