"use client";
// Sign-in: email + password through better-auth's client, then — for an account with two-factor on — a code from the
// authenticator app (or a backup code); and "Sign in with <provider>" when single sign-on is configured.
import { zodResolver } from "@hookform/resolvers/zod";
import { useState } from "react";
import { useForm } from "react-hook-form";
import { useHydrated } from "@/components/ui/use-hydrated";
import { z } from "zod";
import { Button } from "@/components/ui/button";
import { Field, FormError } from "@/components/ui/form";
import { authClient } from "./auth-client";

export { authClient };

const schema = z.object({
  email: z.email("Enter an email address").max(254),
  password: z.string().min(1, "Enter your password").max(256),
});

const codeSchema = z.object({ code: z.string().trim().min(1, "Enter the code").max(64, "At most 64 characters") });

/** What the login page says when single sign-on sent the browser back with an error (our words, never the URL's). */
export function ssoErrorMessage(code: string | undefined, provider: string): string | null {
  if (!code) return null;
  const known: Record<string, string> = {
    account_disabled: "This account is disabled. Ask an operator to enable it.",
    no_access: `None of your groups at ${provider} gives access to Anvil. Ask an operator or your identity administrator.`,
    no_account: `There is no Anvil account for your ${provider} address. Ask an operator to create one.`,
    account_not_linked: `An Anvil account with your address exists, but ${provider} did not confirm the address, so it was not linked. Ask an operator.`,
    access_denied: `Sign-in was cancelled at ${provider}.`,
    email_not_found: `${provider} did not give Anvil your e-mail address. Ask your identity administrator to release the email claim.`,
  };
  const safe = code.replace(/[^a-z0-9_]/gi, "").slice(0, 40);
  return known[safe] ?? `Single sign-on with ${provider} failed (${safe || "unknown error"}). Try again, or ask an operator.`;
}

export function LoginForm({ next, sso, ssoError }: { next?: string; sso?: { name: string } | null; ssoError?: string }) {
  const [error, setError] = useState<string | null>(ssoErrorMessage(ssoError, sso?.name ?? "single sign-on"));
  const [step, setStep] = useState<"password" | "code">("password");
  const [ssoBusy, setSsoBusy] = useState(false);
  const form = useForm<z.infer<typeof schema>>({ resolver: zodResolver(schema), defaultValues: { email: "", password: "" } });
  // Disabled until hydrated, and a POST form: a click before then must never submit natively (a GET would put the
  // password in the address).
  const hydrated = useHydrated();
  const onSubmit = form.handleSubmit(async (values) => {
    setError(null);
    const res = await authClient.signIn.email({ email: values.email, password: values.password });
    if (res.error) {
      setError(
        res.error.status === 429
          ? (res.error.message ?? "Too many sign-in attempts. Wait a minute and try again.")
          : res.error.status === 401
            ? "Wrong email or password."
            : (res.error.message ?? "Sign-in failed."),
      );
      return;
    }
    if (res.data && "twoFactorRedirect" in res.data && res.data.twoFactorRedirect) {
      setStep("code");
      return;
    }
    window.location.assign(next ?? "/");
  });
  const signInWithSso = async () => {
    setError(null);
    setSsoBusy(true);
    const res = await authClient.signIn.social({ provider: "oidc", callbackURL: next ?? "/", errorCallbackURL: "/login" });
    if (res.error) {
      setSsoBusy(false);
      setError(res.error.message ?? `Could not reach ${sso?.name}. Try again.`);
    }
    // On success the client follows the provider's URL.
  };

  if (step === "code") return <SecondFactor next={next} onRestart={() => setStep("password")} />;
  return (
    <div className="flex flex-col gap-4">
      <form method="post" onSubmit={onSubmit} noValidate className="flex flex-col gap-4">
        <FormError message={error} />
        <Field label="Email" error={form.formState.errors.email}>
          {(p) => <input {...p} type="email" autoComplete="username" {...form.register("email")} />}
        </Field>
        <Field label="Password" error={form.formState.errors.password}>
          {(p) => <input {...p} type="password" autoComplete="current-password" {...form.register("password")} />}
        </Field>
        <Button type="submit" variant="primary" busy={form.formState.isSubmitting} disabled={!hydrated}>
          Sign in
        </Button>
      </form>
      {sso ? (
        <>
          <div className="flex items-center gap-3 text-xs text-zinc-500" aria-hidden>
            <span className="h-px flex-1 bg-zinc-200 dark:bg-zinc-800" />
            or
            <span className="h-px flex-1 bg-zinc-200 dark:bg-zinc-800" />
          </div>
          <Button variant="secondary" busy={ssoBusy} onClick={() => signInWithSso().catch(() => setSsoBusy(false))}>
            Sign in with {sso.name}
          </Button>
        </>
      ) : null}
    </div>
  );
}

/** The second step of a password sign-in with two-factor on: a 6-digit code, or one of the backup codes. */
function SecondFactor({ next, onRestart }: { next?: string; onRestart: () => void }) {
  const [useBackup, setUseBackup] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const form = useForm<z.infer<typeof codeSchema>>({ resolver: zodResolver(codeSchema), defaultValues: { code: "" } });
  const hydrated = useHydrated();
  const onSubmit = form.handleSubmit(async ({ code }) => {
    setError(null);
    const res = useBackup ? await authClient.twoFactor.verifyBackupCode({ code }) : await authClient.twoFactor.verifyTotp({ code: code.replace(/\s+/g, "") });
    if (res.error) {
      const byCode: Record<string, string> = {
        INVALID_CODE: "That code is not right. Check that your device's clock is correct, or use a backup code.",
        INVALID_BACKUP_CODE: "That backup code is not valid (each one works once).",
        INVALID_TWO_FACTOR_COOKIE: "This sign-in took too long. Start over with your password.",
        TOO_MANY_ATTEMPTS_REQUEST_NEW_CODE: "Too many wrong codes for this sign-in. Start over with your password.",
        ACCOUNT_TEMPORARILY_LOCKED: "Too many wrong codes: two-factor sign-in for this account is locked for a while. Try again later or ask an operator.",
      };
      setError(
        res.error.status === 429
          ? "Too many attempts. Wait a minute and try again."
          : (byCode[res.error.code ?? ""] ?? res.error.message ?? "The code could not be checked; try again."),
      );
      form.setFocus("code");
      return;
    }
    window.location.assign(next ?? "/");
  });
  return (
    <form method="post" onSubmit={onSubmit} noValidate className="flex flex-col gap-4">
      <p className="text-sm text-zinc-600 dark:text-zinc-400">
        {useBackup ? "Enter one of the backup codes you saved when you turned on two-factor." : "Enter the 6-digit code from your authenticator app."}
      </p>
      <FormError message={error} />
      <Field label={useBackup ? "Backup code" : "Authentication code"} error={form.formState.errors.code}>
        {(p) => (
          <input
            {...p}
            // biome-ignore lint/a11y/noAutofocus: the only field of this step, shown right after the password was accepted
            autoFocus
            inputMode={useBackup ? "text" : "numeric"}
            autoComplete="one-time-code"
            {...form.register("code")}
          />
        )}
      </Field>
      <Button type="submit" variant="primary" busy={form.formState.isSubmitting} disabled={!hydrated}>
        Verify
      </Button>
      <div className="flex justify-between text-sm">
        <button
          type="button"
          className="text-sky-700 underline-offset-2 hover:underline dark:text-sky-400"
          onClick={() => {
            setUseBackup(!useBackup);
            setError(null);
            form.reset({ code: "" });
          }}
        >
          {useBackup ? "Use the authenticator app" : "Use a backup code"}
        </button>
        <button type="button" className="text-zinc-600 underline-offset-2 hover:underline dark:text-zinc-400" onClick={onRestart}>
          Start over
        </button>
      </div>
    </form>
  );
}
