// A demo OpenID Connect provider for the E2E server and for trying single sign-on locally: the lab IdP (sim/oidc.ts)
// on 127.0.0.1 with Anvil as its client and a few demo people in groups that the env printed below maps to roles.
//
//   npx tsx scripts/oidc-dev-provider.ts [--port 4011] [--anvil-url http://localhost:3000] [--parent-pid <pid>]
//
// Prints the ANVIL_OIDC_* lines to give Anvil (also written as a shell file with --write-env <path>). Sign in at its
// login page with a demo login (any password): sso.admin (operator admin), sso.noc (operator viewer), sso.acme
// (Acme tenant admin), sso.dev (Acme tenant member), sso.nobody (no group that Anvil maps). With --parent-pid it
// exits when that process does (the E2E server script starts it beside Anvil).
import fs from "node:fs";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { startOidcSim } from "../sim/oidc";

export const DEV_CLIENT = { clientId: "anvil-dev", clientSecret: "anvil-dev-secret-not-for-production" };

export const DEV_PEOPLE = [
  { login: "sso.admin", email: "sso.admin@idp.example", name: "Sam Admin (SSO)", groups: ["anvil-operators"] },
  { login: "sso.noc", email: "sso.noc@idp.example", name: "Nia Noc (SSO)", groups: ["noc"] },
  { login: "sso.acme", email: "sso.acme@idp.example", name: "Ann Acme (SSO)", groups: ["acme-admins"] },
  { login: "sso.dev", email: "sso.dev@idp.example", name: "Dev Acme (SSO)", groups: ["acme-devs", "staff"] },
  { login: "sso.nobody", email: "sso.nobody@idp.example", name: "No Body (SSO)", groups: ["staff"] },
];

/** The Anvil environment that goes with this provider. */
export function devOidcEnv(issuer: string): Record<string, string> {
  return {
    ANVIL_OIDC_ISSUER: issuer,
    ANVIL_OIDC_CLIENT_ID: DEV_CLIENT.clientId,
    ANVIL_OIDC_CLIENT_SECRET: DEV_CLIENT.clientSecret,
    ANVIL_OIDC_NAME: "Lab IdP",
    ANVIL_OIDC_SCOPES: "openid email profile groups",
    ANVIL_OIDC_OPERATOR_ADMIN_GROUPS: "anvil-operators",
    ANVIL_OIDC_OPERATOR_VIEWER_GROUPS: "noc",
    ANVIL_OIDC_TENANT_GROUPS: "acme-admins=acme:tenant-admin,acme-devs=acme:tenant-member",
  };
}

async function main() {
  const { values } = parseArgs({
    options: {
      port: { type: "string", default: "0" },
      "anvil-url": { type: "string", default: process.env.ANVIL_URL ?? `http://localhost:${process.env.PORT ?? 3000}` },
      "parent-pid": { type: "string" },
      "write-env": { type: "string" },
    },
  });
  const anvil = values["anvil-url"]!.replace(/\/+$/, "");
  const idp = await startOidcSim({
    port: Number(values.port),
    clients: [{ ...DEV_CLIENT, redirectUris: [`${anvil}/api/auth/callback/oidc`] }],
    people: DEV_PEOPLE,
  });
  const env = devOidcEnv(idp.issuer);
  const lines = Object.entries(env).map(([k, v]) => `export ${k}=${JSON.stringify(v)}`);
  if (values["write-env"]) fs.writeFileSync(values["write-env"], `${lines.join("\n")}\n`);
  console.log(`Lab OpenID Connect provider at ${idp.issuer} (client ${DEV_CLIENT.clientId}, redirect ${anvil}/api/auth/callback/oidc)`);
  console.log(lines.join("\n"));
  const parent = values["parent-pid"] ? Number(values["parent-pid"]) : null;
  if (parent)
    setInterval(() => {
      try {
        process.kill(parent, 0);
      } catch {
        void idp.close().finally(() => process.exit(0));
      }
    }, 1000);
  const stop = () => void idp.close().finally(() => process.exit(0));
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
}

const invokedDirectly = (() => {
  const arg = process.argv[1];
  if (!arg) return false;
  try {
    return fs.realpathSync(arg) === fs.realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
})();
if (invokedDirectly) void main();
