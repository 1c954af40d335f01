// What the account security forms share: better-auth's refusals in words a person can act on, and the password-only
// and code-only form schemas.
import { z } from "zod";

/** better-auth's answer → what to tell the person (it says "Invalid password" for a wrong current password). */
export function authErrorMessage(e: { status: number; message?: string; code?: string }): string {
  if (e.status === 429) return "Too many attempts. Wait a minute and try again.";
  if (e.code === "INVALID_PASSWORD" || /invalid password/i.test(e.message ?? "")) return "That is not your current password.";
  return e.message ?? "Something went wrong; try again.";
}

export const passwordOnly = z.object({ password: z.string().min(1, "Enter your password").max(256) });
export const codeOnly = z.object({
  code: z
    .string()
    .trim()
    .regex(/^\d{6}$/, "Enter the 6 digits your app shows"),
});
