"use client";
// Account → Security: change your password (current password, new one twice; your other sessions are signed out) and
// two-factor with an authenticator app (turn on with your password → scan the QR code or type the key → save the
// backup codes, shown once → enter a code to finish; turn off with your password). People who sign in only through
// single sign-on have neither here: their identity provider manages both.
import { zodResolver } from "@hookform/resolvers/zod";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { useForm } from "react-hook-form";
import { z } from "zod";
import { authClient } from "@/components/auth/auth-client";
import { errorInfo, useTRPC } from "@/components/trpc";
import { Badge } from "@/components/ui/badge";
import { Button } from "@/components/ui/button";
import { Field, FormError } from "@/components/ui/form";
import { PageHeader } from "@/components/ui/page";
import { useToast } from "@/components/ui/toast";
import { passwordRule } from "@/db/validation/tenancy";
import { authErrorMessage } from "./two-factor-shared";
import { DisableTwoFactorDialog } from "./two-factor-disable";
import { EnableTwoFactorDialog } from "./two-factor-enable";

const section = "rounded-lg border border-zinc-200 bg-white p-5 dark:border-zinc-800 dark:bg-zinc-900";

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
          You can sign in with {s.sso.providerName ?? "single sign-on"}. Sign-ins through it use that provider&apos;s password and two-factor, not the ones
          below.
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
  const form = useForm<z.infer<typeof changeSchema>>({
    resolver: zodResolver(changeSchema),
    defaultValues: { currentPassword: "", newPassword: "", confirm: "" },
  });
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

/** A QR code as SVG squares (no image fetched: the key never leaves the page). */

function TwoFactor({ enabled, onChanged }: { enabled: boolean; onChanged: () => void }) {
  const [dialog, setDialog] = useState<"enable" | "disable" | null>(null);
  const TwoFactorDialog = dialog === "enable" ? EnableTwoFactorDialog : dialog === "disable" ? DisableTwoFactorDialog : null;
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
      {TwoFactorDialog ? (
        <TwoFactorDialog
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
