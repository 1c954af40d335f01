// Role rules in one place: what a platform or tenant role may do. Pure — the UI asks the same rules to
// disable buttons (with the reason) that the procedure builders enforce on the server.
export type PlatformRole = "operator-admin" | "operator-viewer";
export type TenantRole = "tenant-admin" | "tenant-member";
export type Verdict = { ok: true } | { ok: false; reason: string };

const ok: Verdict = { ok: true };

export const operatorCan = {
  view(role: PlatformRole | null | undefined): Verdict {
    return role ? ok : { ok: false, reason: "Only operators can see the operator console." };
  },
  change(role: PlatformRole | null | undefined): Verdict {
    if (role === "operator-admin") return ok;
    return { ok: false, reason: "Operator viewers can look but not change anything; ask an operator admin." };
  },
};

export const tenantCan = {
  manage(role: TenantRole | null | undefined): Verdict {
    return role === "tenant-admin" ? ok : { ok: false, reason: "Only tenant admins can do this; ask one of your tenant's admins." };
  },
};

/** The reason string, or null when allowed (what a disabled button wants). */
export function reasonOf(v: Verdict): string | null {
  return v.ok ? null : v.reason;
}
