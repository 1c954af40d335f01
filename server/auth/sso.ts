// Single sign-on with an external OpenID Connect provider (better-auth's genericOAuth plugin, discovery from the
// issuer), configured by environment:
//   ANVIL_OIDC_ISSUER, ANVIL_OIDC_CLIENT_ID, ANVIL_OIDC_CLIENT_SECRET   the provider and Anvil's client at it
//   ANVIL_OIDC_NAME      the button's label ("Sign in with <name>", default "SSO")
//   ANVIL_OIDC_SCOPES    space or comma list (default "openid email profile"; add "groups" if the IdP needs it)
//   ANVIL_OIDC_GROUPS_CLAIM  the claim that lists the person's groups (default "groups"; a dotted path works)
//   ANVIL_OIDC_OPERATOR_ADMIN_GROUPS / ANVIL_OIDC_OPERATOR_VIEWER_GROUPS / ANVIL_OIDC_TENANT_GROUPS  see
//                        domain/sso-mapping.ts
//   ANVIL_OIDC_SIGNUP    who gets an Anvil account at first sign-in: "groups" (default: only people whose groups
//                        grant something), "always", or "never" (only accounts an operator made)
//   ANVIL_OIDC_TRUST_EMAIL=1  link an IdP identity to an existing Anvil account with the same address even when the
//                        IdP does not say the address is verified
// The redirect URI to register at the provider is <ANVIL_URL>/api/auth/callback/oidc.
//
// At every SSO sign-in, before the session exists, the groups are applied (syncSsoGrants): memberships and the
// platform role that came from SSO follow the groups; grants made by hand are never changed. A disabled Anvil user
// is refused. The IdP's tokens are not kept (Anvil never calls the IdP on a user's behalf).
import "server-only";
import type { BetterAuthPlugin, GenericEndpointContext } from "better-auth";
import { genericOAuth } from "better-auth/plugins";
import { and, eq, inArray } from "drizzle-orm";
import { getDb } from "@/db/client";
import { memberships, tenants, users } from "@/db/schema";
import { audit } from "@/server/services/audit";
import {
  desiredGrants,
  type GroupMapping,
  groupsFromClaims,
  membershipChanges,
  parseGroupList,
  parseTenantGroups,
  platformRoleChange,
} from "@/domain/sso-mapping";
import { logger } from "@/server/lib/log";

export const OIDC_PROVIDER_ID = "oidc";

export interface SsoConfig {
  issuer: string;
  clientId: string;
  clientSecret: string | undefined;
  name: string;
  scopes: string[];
  groupsClaim: string;
  mapping: GroupMapping;
  signup: "groups" | "always" | "never";
  trustEmail: boolean;
}

/** The SSO configuration from the environment, or null when ANVIL_OIDC_ISSUER is not set. Throws on a bad value. */
export function ssoConfigFromEnv(env: NodeJS.ProcessEnv = process.env): SsoConfig | null {
  const issuer = env.ANVIL_OIDC_ISSUER?.trim();
  if (!issuer) return null;
  try {
    new URL(issuer);
  } catch {
    throw new Error(`ANVIL_OIDC_ISSUER: "${issuer}" is not a URL`);
  }
  const clientId = env.ANVIL_OIDC_CLIENT_ID?.trim();
  if (!clientId) throw new Error("ANVIL_OIDC_CLIENT_ID is required when ANVIL_OIDC_ISSUER is set");
  const signup = (env.ANVIL_OIDC_SIGNUP?.trim() || "groups") as SsoConfig["signup"];
  if (!["groups", "always", "never"].includes(signup)) throw new Error(`ANVIL_OIDC_SIGNUP: "${signup}" is not groups, always or never`);
  const scopes = (env.ANVIL_OIDC_SCOPES ?? "openid email profile").split(/[\s,]+/).filter(Boolean);
  if (!scopes.includes("openid")) scopes.unshift("openid");
  return {
    issuer: issuer.replace(/\/+$/, ""),
    clientId,
    clientSecret: env.ANVIL_OIDC_CLIENT_SECRET || undefined,
    name: env.ANVIL_OIDC_NAME?.trim() || "SSO",
    scopes,
    groupsClaim: env.ANVIL_OIDC_GROUPS_CLAIM?.trim() || "groups",
    mapping: {
      operatorAdminGroups: parseGroupList(env.ANVIL_OIDC_OPERATOR_ADMIN_GROUPS),
      operatorViewerGroups: parseGroupList(env.ANVIL_OIDC_OPERATOR_VIEWER_GROUPS),
      tenantGroups: parseTenantGroups(env.ANVIL_OIDC_TENANT_GROUPS),
    },
    signup,
    trustEmail: env.ANVIL_OIDC_TRUST_EMAIL === "1",
  };
}

/** What the login page needs: the button's label, or null without SSO. */
export function ssoButton(): { name: string } | null {
  const cfg = ssoConfigFromEnv();
  return cfg ? { name: cfg.name } : null;
}

/** A display name that passes the app's rule (1..100 characters) from whatever the IdP gives. */
export function ssoDisplayName(profile: Record<string, unknown>): string {
  for (const k of ["name", "preferred_username", "nickname"]) {
    const v = profile[k];
    if (typeof v === "string" && v.trim()) return v.trim().slice(0, 100);
  }
  const email = typeof profile.email === "string" ? profile.email : "";
  return (email.split("@")[0] || "SSO user").slice(0, 100);
}

// The provider's profile of the sign-in under way, from validateUserInfo (which sees it) to the session hook (which
// knows the user id). Keyed by the request's auth context object, which both receive, so nothing outlives the request.
const profiles = new WeakMap<object, Record<string, unknown>>();

const refusal = (error: string, errorDescription: string) => ({ error, errorDescription });

export interface SyncResult {
  platformRole: { from: string | null; to: string | null } | null;
  changes: { kind: string; tenant: string; role?: string; from?: string; to?: string }[];
  unknownTenants: string[];
}

/**
 * Applies the IdP's groups to a user, in one transaction, audited (actor: the user; details.source "sso"):
 * memberships that came from SSO are granted, re-roled and removed to match; hand grants are left alone; the
 * platform role follows the groups unless it was set by hand. Tenants named in the mapping that don't exist are
 * skipped (and logged).
 */
export async function syncSsoGrants(userId: string, groups: readonly string[], mapping: GroupMapping, requestId: string): Promise<SyncResult> {
  const desired = desiredGrants(groups, mapping);
  return getDb().transaction(async (tx) => {
    const [u] = await tx
      .select({ id: users.id, email: users.email, name: users.name, platformRole: users.platformRole, fromSso: users.platformRoleFromSso })
      .from(users)
      .where(eq(users.id, userId))
      .for("no key update");
    if (!u) return { platformRole: null, changes: [], unknownTenants: [] };
    const actor = { principal: { userId: u.id, email: u.email, name: u.name, platformRole: u.platformRole, sessionId: null, tokenScope: null }, requestId };
    const result: SyncResult = { platformRole: null, changes: [], unknownTenants: [] };

    const roleChange = platformRoleChange({ role: u.platformRole, fromSso: u.fromSso }, desired.platformRole);
    if (roleChange) {
      await tx
        .update(users)
        .set({ platformRole: roleChange.role, platformRoleFromSso: roleChange.role !== null })
        .where(eq(users.id, u.id));
      await audit(tx, actor, {
        action: "user.set_platform_role",
        targetType: "user",
        targetId: u.id,
        targetName: u.email,
        details: { from: u.platformRole, to: roleChange.role, source: "sso" },
      });
      result.platformRole = { from: u.platformRole, to: roleChange.role };
    }

    const wanted = [...desired.tenants.keys()];
    const known = wanted.length ? await tx.select({ id: tenants.id, slug: tenants.slug }).from(tenants).where(inArray(tenants.slug, wanted)) : [];
    const idOf = new Map(known.map((t) => [t.slug, t.id]));
    result.unknownTenants = wanted.filter((s) => !idOf.has(s));
    for (const slug of result.unknownTenants) desired.tenants.delete(slug);

    const current = await tx
      .select({ tenantId: memberships.tenantId, tenantSlug: tenants.slug, role: memberships.role, source: memberships.source })
      .from(memberships)
      .innerJoin(tenants, eq(tenants.id, memberships.tenantId))
      .where(eq(memberships.userId, u.id));
    const changes = membershipChanges(current, desired.tenants);
    // Same lock order as membership changes by hand (server/api/routers/members.ts): the tenant, then the membership.
    const tenantIdOf = (c: (typeof changes)[number]) => (c.kind === "grant" ? idOf.get(c.tenantSlug)! : c.tenantId);
    for (const c of [...changes].sort((a, b) => tenantIdOf(a).localeCompare(tenantIdOf(b)))) {
      const tenantId = tenantIdOf(c);
      await tx.select({ id: tenants.id }).from(tenants).where(eq(tenants.id, tenantId)).for("no key update");
      const mine = and(eq(memberships.tenantId, tenantId), eq(memberships.userId, u.id));
      if (c.kind === "grant") {
        const added = await tx
          .insert(memberships)
          .values({ tenantId, userId: u.id, role: c.role, source: "sso" })
          .onConflictDoNothing()
          .returning({ role: memberships.role });
        if (!added.length) continue;
        await audit(tx, actor, {
          action: "member.add",
          targetType: "user",
          targetId: u.id,
          targetName: u.email,
          tenantId,
          details: { role: c.role, source: "sso" },
        });
        result.changes.push({ kind: "grant", tenant: c.tenantSlug, role: c.role });
      } else if (c.kind === "set_role") {
        await tx
          .update(memberships)
          .set({ role: c.to })
          .where(and(mine, eq(memberships.source, "sso")));
        await audit(tx, actor, {
          action: "member.set_role",
          targetType: "user",
          targetId: u.id,
          targetName: u.email,
          tenantId,
          details: { from: c.from, to: c.to, source: "sso" },
        });
        result.changes.push({ kind: "set_role", tenant: c.tenantSlug, from: c.from, to: c.to });
      } else {
        await tx.delete(memberships).where(and(mine, eq(memberships.source, "sso")));
        await audit(tx, actor, {
          action: "member.remove",
          targetType: "user",
          targetId: u.id,
          targetName: u.email,
          tenantId,
          details: { role: c.role, source: "sso" },
        });
        result.changes.push({ kind: "revoke", tenant: c.tenantSlug, role: c.role });
      }
    }
    return result;
  });
}

function requestIdOf(ctx: GenericEndpointContext | null): string {
  return ctx?.request?.headers.get("x-request-id")?.slice(0, 64) || crypto.randomUUID();
}

/** Anvil's side of SSO, as a better-auth plugin: the sign-in gate, the group sync, account linking, no stored tokens. */
function anvilSso(cfg: SsoConfig): BetterAuthPlugin {
  const isOurs = (providerId: unknown) => providerId === OIDC_PROVIDER_ID;
  const dropTokens = async (account: Record<string, unknown>) =>
    isOurs(account.providerId) ? { data: { ...account, accessToken: null, refreshToken: null, idToken: null } } : undefined;
  return {
    id: "anvil-sso",
    init: () => ({
      options: {
        account: {
          accountLinking: {
            enabled: true,
            // An operator-made account (e-mail marked verified) is linked when the IdP vouches for the address.
            trustedProviders: cfg.trustEmail ? [OIDC_PROVIDER_ID] : [],
          },
        },
        user: {
          async validateUserInfo(data, ctx) {
            const { source } = data;
            if (source.method !== "oauth" || !isOurs(source.oauth?.providerId)) return;
            const profile = source.oauth?.profile ?? {};
            if (source.action === "create-user") {
              if (cfg.signup === "never") return refusal("no_account", "There is no Anvil account for this address. Ask an operator to create one.");
              if (cfg.signup === "groups") {
                const d = desiredGrants(groupsFromClaims(profile, cfg.groupsClaim), cfg.mapping);
                if (!d.platformRole && d.tenants.size === 0)
                  return refusal("no_access", "None of your groups gives access to Anvil. Ask an operator or your identity administrator.");
              }
            } else if (typeof data.user.id === "string") {
              const [u] = await getDb().select({ disabled: users.disabled }).from(users).where(eq(users.id, data.user.id));
              if (u?.disabled) return refusal("account_disabled", "This account is disabled. Ask an operator to enable it.");
            }
            profiles.set(ctx.context, profile);
          },
        },
        databaseHooks: {
          session: {
            create: {
              async before(session, ctx) {
                const profile = ctx ? profiles.get(ctx.context) : undefined;
                if (!profile) return;
                profiles.delete(ctx!.context);
                const [u] = await getDb().select({ disabled: users.disabled }).from(users).where(eq(users.id, session.userId));
                if (!u || u.disabled) return; // refused by the session hook in auth.ts
                const groups = groupsFromClaims(profile, cfg.groupsClaim);
                const r = await syncSsoGrants(session.userId, groups, cfg.mapping, requestIdOf(ctx));
                if (r.unknownTenants.length)
                  logger.warn({ userId: session.userId, tenants: r.unknownTenants }, "SSO: ANVIL_OIDC_TENANT_GROUPS names tenants that don't exist; skipped");
              },
            },
          },
          account: {
            create: { before: dropTokens },
            update: { before: dropTokens },
          },
        },
      },
    }),
  };
}

/** better-auth plugins for SSO: none without ANVIL_OIDC_ISSUER. */
export function ssoPlugins(): BetterAuthPlugin[] {
  const cfg = ssoConfigFromEnv();
  if (!cfg) return [];
  return [
    genericOAuth({
      config: [
        {
          providerId: OIDC_PROVIDER_ID,
          name: cfg.name,
          discoveryUrl: `${cfg.issuer}/.well-known/openid-configuration`,
          // Identity comes from the ID token: refuse to run with a provider whose tokens can't be verified.
          requireIdTokenVerification: true,
          clientId: cfg.clientId,
          clientSecret: cfg.clientSecret,
          scopes: cfg.scopes,
          mapProfileToUser: (profile) => ({ name: ssoDisplayName(profile), image: undefined }),
        },
      ],
    }),
    anvilSso(cfg),
  ];
}
