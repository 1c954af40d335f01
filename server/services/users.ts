// User accounts as more than one router makes them (users, tenant members, invitations): an account with a password
// (better-auth's scrypt hash in a "credential" account), a temporary password to hand over once, and the unique
// violation a duplicate email becomes.
import { randomBytes } from "node:crypto";
import { hashPassword } from "better-auth/crypto";
import type { Tx } from "@/db/client";
import { accounts, users } from "@/db/schema";

export const userUniques = { users_email_unique: { field: "email", message: "A user with this email already exists." } };

/** A temporary password: 18 random bytes, readable (no ambiguous characters are a concern for copy/paste). */
export function temporaryPassword(): string {
  return randomBytes(18).toString("base64url");
}

/** Creates a user with a password (better-auth's scrypt hash in a "credential" account) inside `tx`. */
export async function createUserInTx(tx: Tx, u: { email: string; name: string; password: string; platformRole: "operator-admin" | "operator-viewer" | null }) {
  const id = crypto.randomUUID();
  const hash = await hashPassword(u.password);
  const [row] = await tx
    .insert(users)
    .values({ id, email: u.email.toLowerCase(), name: u.name, platformRole: u.platformRole, emailVerified: true })
    .returning();
  await tx.insert(accounts).values({ id: crypto.randomUUID(), accountId: id, providerId: "credential", userId: id, password: hash });
  return row!;
}
