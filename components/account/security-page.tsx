"use client";
// Account → Security: change your password (current password, new one twice; your other sessions are signed out) and
// two-factor with an authenticator app (turn on with your password → scan the QR code or type the key → save the
// backup codes, shown once → enter a code to finish; turn off with your password). People who sign in only through
// single sign-on have neither here: their identity provider manages both.
import { zodResolver } from "@hookform/resolvers/zod";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useMemo, useState } from "react";
import { useForm } from "react-hook-form";
import { encode } from "uqr";
import { z } from "zod";
import { authClient } from "@/components/auth/auth-client";
import { errorInfo, useTRPC } from "@/components/trpc";
import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { Dialog } from "@/components/ui/dialog";
import { Field, FormError } from "@/components/ui/form";
import { PageHeader } from "@/components/ui/page";
import { useToast } from "@/components/ui/toast";
import { passwordRule } from "@/db/validation/tenancy";

const section = "rounded-lg border border-zinc-200 bg-white p-5 dark:border-zinc-800 dark:bg-zinc-900";

/** better-auth's answer → what to tell the person (it says "Invalid password" for a wrong current password). */
function authErrorMessage(e: { status: number; message?: string; code?: string }): string {
  if (e.status === 429) return "Too many attempts. Wait a minute and try again.";
  if (e.code === "INVALID_PASSWORD" || /invalid password/i.test(e.message ?? "")) return "That is not your current password.";
  return e.message ?? "Something went wrong; try again.";
}

export function SecurityPage() {
  const trpc = useTRPC();
  const security = useQuery(trpc.account.security.queryOptions());
  const s = security.data;
  return (
    <div className="flex max-w-2xl flex-col gap-6">
      <PageHeader title="Security" description="How you sign in to Anvil." />
      {security.error ? <FormError message={errorInfo(security.error).message} /> : null}
      {s?.sso.linked ? (
        <p className="text-sm text-zinc-600 dark:text-zinc-400">
          You can sign in with {s.sso.providerName ?? "single sign-on"}. Sign-ins through it use that provider&apos;s password and two-factor, not the
          ones below.
        </p>
      ) : null}
      <section className={section} aria-labelledby="pw-h">
        <h2 id="pw-h" className="mb-1 text-base font-semibold">
          Password
        </h2>
        {!s ? (
          <p className="text-sm text-zinc-500">Loading…</p>
        ) : s.hasPassword ? (
          <ChangePasswordForm />
        ) : (
          <p className="text-sm text-zinc-600 dark:text-zinc-400">
            You sign in with {s.sso.providerName ?? "single sign-on"} only; your password is managed there.
          </p>
        )}
      </section>
      <section className={section} aria-labelledby="tf-h">
        <div className="mb-1 flex items-center gap-2">
          <h2 id="tf-h" className="text-base font-semibold">
            Two-factor authentication
          </h2>
          {s ? <Badge tone={s.twoFactorEnabled ? "green" : "zinc"}>{s.twoFactorEnabled ? "On" : "Off"}</Badge> : null}
        </div>
        {!s ? null : s.hasPassword ? (
          <TwoFactor enabled={s.twoFactorEnabled} onChanged={() => security.refetch()} />
        ) : (
          <p className="text-sm text-zinc-600 dark:text-zinc-400">Managed by {s.sso.providerName ?? "your identity provider"}.</p>
        )}
      </section>
    </div>
  );
}

const changeSchema = z
  .object({
    currentPassword: z.string().min(1, "Enter your current password").max(256),
    newPassword: passwordRule,
    confirm: z.string().max(256),
  })
  .refine((v) => v.newPassword === v.confirm, { path: ["confirm"], message: "The two new passwords are not the same" })
  .refine((v) => v.newPassword !== v.currentPassword, { path: ["newPassword"], message: "Choose a password different from the current one" });

function ChangePasswordForm() {
  const toast = useToast();
  const qc = useQueryClient();
  const trpc = useTRPC();
  const [error, setError] = useState<string | null>(null);
  const form = useForm<z.infer<typeof changeSchema>>({ resolver: zodResolver(changeSchema), defaultValues: { currentPassword: "", newPassword: "", confirm: "" } });
  const onSubmit = form.handleSubmit(async (v) => {
    setError(null);
    const res = await authClient.changePassword({ currentPassword: v.currentPassword, newPassword: v.newPassword, revokeOtherSessions: true });
    if (res.error) {
      const msg = authErrorMessage(res.error);
      if (msg === "That is not your current password.") form.setError("currentPassword", { message: msg }, { shouldFocus: true });
      else setError(msg);
      return;
    }
    form.reset();
    toast("success", "Password changed. Your other sessions were signed out.");
    await qc.invalidateQueries(trpc.account.pathFilter());
  });
  return (
    <form onSubmit={onSubmit} noValidate className="mt-3 flex flex-col gap-4" aria-label="Change password">
      <p className="text-sm text-zinc-600 dark:text-zinc-400">Changing it signs you out everywhere else.</p>
      <FormError message={error} />
      <Field label="Current password" error={form.formState.errors.currentPassword}>
        {(p) => <input {...p} type="password" autoComplete="current-password" {...form.register("currentPassword")} />}
      </Field>
      <Field label="New password" hint="At least 12 characters." error={form.formState.errors.newPassword}>
        {(p) => <input {...p} type="password" autoComplete="new-password" {...form.register("newPassword")} />}
      </Field>
      <Field label="New password again" error={form.formState.errors.confirm}>
        {(p) => <input {...p} type="password" autoComplete="new-password" {...form.register("confirm")} />}
      </Field>
      <div>
        <Button type="submit" variant="primary" busy={form.formState.isSubmitting}>
          Change password
        </Button>
      </div>
    </form>
  );
}

const passwordOnly = z.object({ password: z.string().min(1, "Enter your password").max(256) });
const codeOnly = z.object({ code: z.string().trim().regex(/^\d{6}$/, "Enter the 6 digits your app shows") });

/** A QR code as SVG squares (no image fetched: the key never leaves the page). */
function QrCode({ text, label }: { text: string; label: string }) {
  const qr = useMemo(() => encode(text, { ecc: "M", border: 2 }), [text]);
  const cells: string[] = [];
  for (const [y, row] of qr.data.entries())
    for (const [x, dark] of row.entries()) if (dark) cells.push(`M${x} ${y}h1v1h-1z`);
  return (
    <svg role="img" aria-label={label} viewBox={`0 0 ${qr.size} ${qr.size}`} className="size-48 rounded bg-white" shapeRendering="crispEdges">
      <rect width={qr.size} height={qr.size} fill="#fff" />
      <path d={cells.join("")} fill="#000" />
    </svg>
  );
}

function TwoFactor({ enabled, onChanged }: { enabled: boolean; onChanged: () => void }) {
  const [dialog, setDialog] = useState<"enable" | "disable" | null>(null);
  return (
    <div className="mt-2 flex flex-col gap-3">
      <p className="text-sm text-zinc-600 dark:text-zinc-400">
        {enabled
          ? "Signing in with your password also asks for a code from your authenticator app."
          : "Ask for a code from an authenticator app (any TOTP app) after your password when you sign in."}
      </p>
      <div>
        {enabled ? (
          <Button variant="danger" onClick={() => setDialog("disable")}>
            Turn off two-factor
          </Button>
        ) : (
          <Button variant="primary" onClick={() => setDialog("enable")}>
            Turn on two-factor
          </Button>
        )}
      </div>
      {dialog === "enable" ? (
        <EnableTwoFactorDialog
          onClose={() => setDialog(null)}
          onDone={() => {
            setDialog(null);
            onChanged();
          }}
        />
      ) : null}
      {dialog === "disable" ? (
        <DisableTwoFactorDialog
          onClose={() => setDialog(null)}
          onDone={() => {
            setDialog(null);
            onChanged();
          }}
        />
      ) : null}
    </div>
  );
}

function EnableTwoFactorDialog({ onClose, onDone }: { onClose: () => void; onDone: () => void }) {
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
      else code.setError("code", { message: "That code is not right. Check that your device's clock is correct and try the current code." }, { shouldFocus: true });
      return;
    }
    toast("success", "Two-factor is on. You will be asked for a code at your next sign-in.");
    onDone();
  });
  return (
    <Dialog open onClose={onClose} title="Turn on two-factor" wide>
      <FormError message={error} />
      {!setup ? (
        <form onSubmit={start} noValidate className="flex flex-col gap-4">
          <Field label="Your password" error={pw.formState.errors.password}>
            {(p) => <input {...p} type="password" autoComplete="current-password" {...pw.register("password")} />}
          </Field>
          <div className="flex justify-end gap-2">
            <Button onClick={onClose}>Cancel</Button>
            <Button type="submit" variant="primary" busy={pw.formState.isSubmitting}>
              Continue
            </Button>
          </div>
        </form>
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

function DisableTwoFactorDialog({ onClose, onDone }: { onClose: () => void; onDone: () => void }) {
  const toast = useToast();
  const [error, setError] = useState<string | null>(null);
  const pw = useForm<z.infer<typeof passwordOnly>>({ resolver: zodResolver(passwordOnly), defaultValues: { password: "" } });
  const submit = pw.handleSubmit(async ({ password }) => {
    setError(null);
    const res = await authClient.twoFactor.disable({ password });
    if (res.error) {
      const msg = authErrorMessage(res.error);
      if (msg === "That is not your current password.") pw.setError("password", { message: "That is not your password." }, { shouldFocus: true });
      else setError(msg);
      return;
    }
    toast("success", "Two-factor is off. Your password alone signs you in.");
    onDone();
  });
  return (
    <Dialog open onClose={onClose} title="Turn off two-factor">
      <form onSubmit={submit} noValidate className="flex flex-col gap-4">
        <p className="text-sm">Your password alone will sign you in. Your backup codes stop working.</p>
        <FormError message={error} />
        <Field label="Your password" error={pw.formState.errors.password}>
          {(p) => <input {...p} type="password" autoComplete="current-password" {...pw.register("password")} />}
        </Field>
        <div className="flex justify-end gap-2">
          <Button onClick={onClose}>Cancel</Button>
          <Button type="submit" variant="danger" busy={pw.formState.isSubmitting}>
            Turn off two-factor
          </Button>
        </div>
      </form>
    </Dialog>
  );
}
