"use client";
// Email + password sign-in through better-auth's client.
import { zodResolver } from "@hookform/resolvers/zod";
import { createAuthClient } from "better-auth/react";
import { useState } from "react";
import { useForm } from "react-hook-form";
import { z } from "zod";
import { Button } from "@/components/ui/button";
import { Field, FormError } from "@/components/ui/form";

export const authClient = createAuthClient();

const schema = z.object({
  email: z.email("Enter an email address").max(254),
  password: z.string().min(1, "Enter your password").max(256),
});

export function LoginForm({ next }: { next?: string }) {
  const [error, setError] = useState<string | null>(null);
  const form = useForm<z.infer<typeof schema>>({ resolver: zodResolver(schema), defaultValues: { email: "", password: "" } });
  const onSubmit = form.handleSubmit(async (values) => {
    setError(null);
    const res = await authClient.signIn.email({ email: values.email, password: values.password });
    if (res.error) {
      setError(
        res.error.status === 429
          ? "Too many sign-in attempts. Wait a minute and try again."
          : res.error.status === 401
            ? "Wrong email or password."
            : (res.error.message ?? "Sign-in failed."),
      );
      return;
    }
    window.location.assign(next ?? "/");
  });
  return (
    <form onSubmit={onSubmit} noValidate className="flex flex-col gap-4">
      <FormError message={error} />
      <Field label="Email" error={form.formState.errors.email}>
        {(p) => <input {...p} type="email" autoComplete="username" {...form.register("email")} />}
      </Field>
      <Field label="Password" error={form.formState.errors.password}>
        {(p) => <input {...p} type="password" autoComplete="current-password" {...form.register("password")} />}
      </Field>
      <Button type="submit" variant="primary" busy={form.formState.isSubmitting}>
        Sign in
      </Button>
    </form>
  );
}
