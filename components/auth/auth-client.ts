"use client";
// The browser's better-auth client: sign-in (password, single sign-on), the second-factor step, sign-out, password
// change and two-factor setup. One instance for the app.
import { twoFactorClient } from "better-auth/client/plugins";
import { createAuthClient } from "better-auth/react";

export const authClient = createAuthClient({ plugins: [twoFactorClient()] });
