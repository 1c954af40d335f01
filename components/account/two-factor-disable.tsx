"use client";
// "Turn off two-factor": your password; the backup codes stop working.
import { zodResolver } from "@hookform/resolvers/zod";
import { useState } from "react";
import { useForm } from "react-hook-form";
import type { z } from "zod";
import { authClient } from "@/components/auth/auth-client";
import { Dialog } from "@/components/ui/dialog";
import { FormError } from "@/components/ui/form";
import { useToast } from "@/components/ui/toast";
import { PasswordStep } from "./password-step";
import { authErrorMessage, passwordOnly } from "./two-factor-shared";

export function DisableTwoFactorDialog({ onClose, onDone }: { onClose: () => void; onDone: () => void }) {
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
      <PasswordStep form={pw} onSubmit={submit} onClose={onClose} submitLabel="Turn off two-factor" variant="danger">
        <p className="text-sm">Your password alone will sign you in. Your backup codes stop working.</p>
        <FormError message={error} />
      </PasswordStep>
    </Dialog>
  );
}
