// A demo OpenID Connect provider for the E2E server and for trying single sign-on by hand: the lab IdP
// (sim/oidc.ts startLabIdp) on 127.0.0.1 with Anvil as its client and demo people in groups that the settings it
// prints map to roles.
//
//   npx tsx scripts/oidc-dev-provider.ts [--port 4011] [--anvil-url http://localhost:3000] [--parent-pid <pid>]
//                                        [--write-env <file>]
//
// Prints the ANVIL_OIDC_* lines to give Anvil (and writes them as a shell file with --write-env, once it listens).
// Sign in at its login page with a demo login (any password): sso.admin (operator admin), sso.noc (operator viewer),
// sso.acme (Acme tenant admin), sso.dev (Acme tenant member), sso.nobody (in no group Anvil maps). With --parent-pid
// it exits when that process does (scripts/e2e-server.sh starts it beside Anvil). `ANVIL_OIDC_DEV=1 npm run dev`
// starts the same provider inside the dev server instead.
import fs from "node:fs";
import { parseArgs } from "node:util";
import { isEntryScript } from "../sim/entry";
import { LAB_IDP_CLIENT, startLabIdp } from "../sim/oidc";

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
  const { idp, env } = await startLabIdp({ anvilUrl: anvil, port: Number(values.port) });
  const lines = Object.entries(env).map(([k, v]) => `export ${k}=${JSON.stringify(v)}`);
  if (values["write-env"]) fs.writeFileSync(values["write-env"], `${lines.join("\n")}\n`);
  console.log(`Lab OpenID Connect provider at ${idp.issuer} (client ${LAB_IDP_CLIENT.clientId}, redirect ${anvil}/api/auth/callback/oidc)`);
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

if (isEntryScript(import.meta.url)) void main();
