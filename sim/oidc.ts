// The lab's identity provider: a real OpenID Connect provider (the `oidc-provider` package, the certified
// implementation) on loopback, with clients and people given by the caller. People sign in on its own login page
// (its development interactions: the login form takes the account name; the password is not checked — it is a
// lab), consent is given automatically for the registered clients, and the ID token / userinfo carry e-mail, name
// and a `groups` claim (scope "groups"). Used by the SSO tests (server/auth/sso.test.ts), the E2E server
// (scripts/oidc-dev-provider.ts) and `npm run dev` with ANVIL_OIDC_DEV=1 (startLabIdp: Anvil as the client, demo
// people in groups, and the ANVIL_OIDC_* settings that map those groups).
import http from "node:http";
import type { AddressInfo } from "node:net";
import Provider, { type KoaContextWithOIDC } from "oidc-provider";

export interface OidcPerson {
  /** what is typed in the provider's login box; also the subject (`sub`) */
  login: string;
  email: string;
  name: string;
  groups: string[];
  emailVerified?: boolean;
}

export interface OidcClient {
  clientId: string;
  clientSecret: string;
  redirectUris: string[];
}

export interface OidcSimOptions {
  clients: OidcClient[];
  people: OidcPerson[];
  /** default 127.0.0.1 */
  host?: string;
  /** default 0 (any free port) */
  port?: number;
}

export interface OidcSim {
  issuer: string;
  port: number;
  /** people by login; change an entry's groups and the next sign-in sees them */
  people: Map<string, OidcPerson>;
  close(): Promise<void>;
}

export async function startOidcSim(opts: OidcSimOptions): Promise<OidcSim> {
  const host = opts.host ?? "127.0.0.1";
  const people = new Map(opts.people.map((p) => [p.login, p]));
  const server = http.createServer();
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port ?? 0, host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const issuer = `http://${host}:${port}`;
  const provider = new Provider(issuer, {
    clients: opts.clients.map((c) => ({
      client_id: c.clientId,
      client_secret: c.clientSecret,
      redirect_uris: c.redirectUris,
      grant_types: ["authorization_code"],
      response_types: ["code"],
    })),
    scopes: ["openid", "email", "profile", "groups"],
    claims: { openid: ["sub"], email: ["email", "email_verified"], profile: ["name", "preferred_username"], groups: ["groups"] },
    cookies: { keys: ["anvil-lab-oidc-cookie-key"] },
    ttl: { AccessToken: 3600, AuthorizationCode: 60, IdToken: 3600, Interaction: 600, Grant: 86_400, Session: 86_400 },
    features: { devInteractions: { enabled: true } },
    async findAccount(_ctx: KoaContextWithOIDC, id: string) {
      const p = people.get(id);
      if (!p) return undefined;
      return {
        accountId: id,
        async claims() {
          return { sub: id, email: p.email, email_verified: p.emailVerified ?? true, name: p.name, preferred_username: p.login, groups: [...p.groups] };
        },
      };
    },
    // Registered clients are first-party: what they ask for is granted without a consent page.
    async loadExistingGrant(ctx: KoaContextWithOIDC) {
      const session = ctx.oidc.session;
      const client = ctx.oidc.client;
      if (!session?.accountId || !client) return undefined;
      const existing = ctx.oidc.result?.consent?.grantId ?? session.grantIdFor(client.clientId);
      const grant = existing
        ? await ctx.oidc.provider.Grant.find(existing)
        : new ctx.oidc.provider.Grant({ clientId: client.clientId, accountId: session.accountId });
      if (!grant) return undefined;
      grant.addOIDCScope([...ctx.oidc.requestParamScopes].join(" "));
      await grant.save();
      return grant;
    },
  });
  server.on("request", provider.callback());
  return {
    issuer,
    port,
    people,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Anvil's client at the lab IdP (a lab secret: never use it for a real provider). */
export const LAB_IDP_CLIENT = { clientId: "anvil-dev", clientSecret: "anvil-dev-secret-not-for-production" };

/** Demo people: type the login at the IdP's page (any password). */
export const LAB_IDP_PEOPLE: OidcPerson[] = [
  { login: "sso.admin", email: "sso.admin@idp.example", name: "Sam Admin (SSO)", groups: ["anvil-operators"] },
  { login: "sso.noc", email: "sso.noc@idp.example", name: "Nia Noc (SSO)", groups: ["noc"] },
  { login: "sso.acme", email: "sso.acme@idp.example", name: "Ann Acme (SSO)", groups: ["acme-admins"] },
  { login: "sso.dev", email: "sso.dev@idp.example", name: "Dev Acme (SSO)", groups: ["acme-devs", "staff"] },
  { login: "sso.nobody", email: "sso.nobody@idp.example", name: "No Body (SSO)", groups: ["staff"] },
];

/** The Anvil settings that go with the lab IdP: its groups mapped onto the demo data's tenants. */
export function labIdpEnv(issuer: string): Record<string, string> {
  return {
    ANVIL_OIDC_ISSUER: issuer,
    ANVIL_OIDC_CLIENT_ID: LAB_IDP_CLIENT.clientId,
    ANVIL_OIDC_CLIENT_SECRET: LAB_IDP_CLIENT.clientSecret,
    ANVIL_OIDC_NAME: "Lab IdP",
    ANVIL_OIDC_SCOPES: "openid email profile groups",
    ANVIL_OIDC_OPERATOR_ADMIN_GROUPS: "anvil-operators",
    ANVIL_OIDC_OPERATOR_VIEWER_GROUPS: "noc",
    ANVIL_OIDC_TENANT_GROUPS: "acme-admins=acme:tenant-admin,acme-devs=acme:tenant-member",
  };
}

/** The lab IdP for an Anvil at `anvilUrl` (its redirect URI registered), with the settings for that Anvil. */
export async function startLabIdp(opts: { anvilUrl: string; port?: number }): Promise<{ idp: OidcSim; env: Record<string, string> }> {
  const anvil = opts.anvilUrl.replace(/\/+$/, "");
  const idp = await startOidcSim({
    port: opts.port,
    clients: [{ ...LAB_IDP_CLIENT, redirectUris: [`${anvil}/api/auth/callback/oidc`] }],
    people: LAB_IDP_PEOPLE,
  });
  return { idp, env: labIdpEnv(idp.issuer) };
}
