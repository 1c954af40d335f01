// The lab's identity provider: a real OpenID Connect provider (the `oidc-provider` package, the certified
// implementation) on loopback, with clients and people given by the caller. People sign in on its own login page
// (its development interactions: the login form takes the account name; the password is not checked — it is a
// lab), consent is given automatically for the registered clients, and the ID token / userinfo carry e-mail, name
// and a `groups` claim (scope "groups"). Used by the SSO tests (server/auth/sso.test.ts), the E2E server
// (scripts/oidc-dev-provider.ts) and `npm run dev` with ANVIL_OIDC_DEV=1.
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
      const grant = existing ? await ctx.oidc.provider.Grant.find(existing) : new ctx.oidc.provider.Grant({ clientId: client.clientId, accountId: session.accountId });
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
