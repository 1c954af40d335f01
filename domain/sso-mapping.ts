// Single sign-on: from the groups an OpenID Connect provider says a person is in to the platform role and tenant
// memberships Anvil grants them. Pure rules (no I/O) — the sync that applies them is server/auth/sso.ts.
//   ANVIL_OIDC_OPERATOR_ADMIN_GROUPS  / ANVIL_OIDC_OPERATOR_VIEWER_GROUPS  comma lists of groups → platform role
//   ANVIL_OIDC_TENANT_GROUPS          "acme-admins=acme:tenant-admin,acme-devs=acme:tenant-member" → memberships
// A person in several groups gets the highest role each grants (admin over viewer, tenant-admin over tenant-member).

export type PlatformRole = "operator-admin" | "operator-viewer";
export type TenantRole = "tenant-admin" | "tenant-member";

export interface TenantGroupRule {
  group: string;
  tenant: string; // tenant slug
  role: TenantRole;
}

export interface GroupMapping {
  operatorAdminGroups: string[];
  operatorViewerGroups: string[];
  tenantGroups: TenantGroupRule[];
}

export interface DesiredGrants {
  platformRole: PlatformRole | null;
  /** tenant slug → role */
  tenants: Map<string, TenantRole>;
}

const tenantRank: Record<TenantRole, number> = { "tenant-member": 1, "tenant-admin": 2 };

/** "a, b,,c" → ["a", "b", "c"]. */
export function parseGroupList(value: string | undefined): string[] {
  return (value ?? "")
    .split(",")
    .map((g) => g.trim())
    .filter(Boolean);
}

/** "group=tenant:role,…" → rules; a malformed entry is an error naming it (the server refuses to start with it). */
export function parseTenantGroups(value: string | undefined): TenantGroupRule[] {
  const out: TenantGroupRule[] = [];
  for (const entry of parseGroupList(value)) {
    const m = /^(.+?)=([a-z0-9][a-z0-9-]*):(tenant-admin|tenant-member)$/.exec(entry);
    if (!m)
      throw new Error(
        `ANVIL_OIDC_TENANT_GROUPS: "${entry}" is not group=tenant-slug:role (role tenant-admin or tenant-member), e.g. acme-admins=acme:tenant-admin`,
      );
    out.push({ group: m[1]!.trim(), tenant: m[2]!, role: m[3] as TenantRole });
  }
  return out;
}

/**
 * The groups in a claims object: `claim` may be a dotted path (Keycloak's "realm_access.roles"); the value may be
 * an array of strings or one string of comma- or space-separated names. Anything else counts as no groups.
 */
export function groupsFromClaims(claims: Record<string, unknown>, claim: string): string[] {
  let v: unknown = claims[claim];
  if (v === undefined && claim.includes(".")) {
    v = claims;
    for (const part of claim.split(".")) v = v && typeof v === "object" ? (v as Record<string, unknown>)[part] : undefined;
  }
  if (typeof v === "string") return v.split(/[\s,]+/).filter(Boolean);
  if (Array.isArray(v)) return v.filter((g): g is string => typeof g === "string" && g.length > 0);
  return [];
}

/** What the groups grant. */
export function desiredGrants(groups: readonly string[], mapping: GroupMapping): DesiredGrants {
  const inGroup = new Set(groups);
  const platformRole: PlatformRole | null = mapping.operatorAdminGroups.some((g) => inGroup.has(g))
    ? "operator-admin"
    : mapping.operatorViewerGroups.some((g) => inGroup.has(g))
      ? "operator-viewer"
      : null;
  const tenants = new Map<string, TenantRole>();
  for (const rule of mapping.tenantGroups) {
    if (!inGroup.has(rule.group)) continue;
    const had = tenants.get(rule.tenant);
    if (!had || tenantRank[rule.role] > tenantRank[had]) tenants.set(rule.tenant, rule.role);
  }
  return { platformRole, tenants };
}

export interface CurrentMembership {
  tenantId: string;
  tenantSlug: string;
  role: TenantRole;
  source: "manual" | "sso";
}

export type MembershipChange =
  | { kind: "grant"; tenantSlug: string; role: TenantRole }
  | { kind: "set_role"; tenantId: string; tenantSlug: string; from: TenantRole; to: TenantRole }
  | { kind: "revoke"; tenantId: string; tenantSlug: string; role: TenantRole };

/**
 * The membership changes that bring `current` to `desired`: memberships that came from SSO follow the groups
 * (granted, re-roled, removed); a membership granted by hand is never changed or removed, whatever the groups say.
 */
export function membershipChanges(current: readonly CurrentMembership[], desired: DesiredGrants["tenants"]): MembershipChange[] {
  const changes: MembershipChange[] = [];
  const bySlug = new Map(current.map((m) => [m.tenantSlug, m]));
  for (const m of current) {
    if (m.source !== "sso") continue;
    const want = desired.get(m.tenantSlug);
    if (!want) changes.push({ kind: "revoke", tenantId: m.tenantId, tenantSlug: m.tenantSlug, role: m.role });
    else if (want !== m.role) changes.push({ kind: "set_role", tenantId: m.tenantId, tenantSlug: m.tenantSlug, from: m.role, to: want });
  }
  for (const [slug, role] of desired) if (!bySlug.has(slug)) changes.push({ kind: "grant", tenantSlug: slug, role });
  return changes;
}

/**
 * The platform role after an SSO sign-in, or undefined to leave it as it is: a role set by hand is kept; a role that
 * came from SSO (or none) follows the groups.
 */
export function platformRoleChange(
  current: { role: PlatformRole | null; fromSso: boolean },
  desired: PlatformRole | null,
): { role: PlatformRole | null } | undefined {
  if (current.role && !current.fromSso) return undefined;
  if (current.role === desired) return undefined;
  return { role: desired };
}
