// CLI: start the Redfish BMC simulator and print where its BMCs and admin API are.
//   npx tsx sim/redfish/main.ts --hosts 8 [--dpu-every 1] [--address ports|loopback|netns] [--tls]
//     [--latency zero|realistic] [--all-bootable] [--on] [--admin-port 9400] [--loopback-port 8443] [--dialect lab]

import { parseArgs } from "node:util";
import { type DialectName, startRedfishSim } from "./index";

const { values } = parseArgs({
  options: {
    hosts: { type: "string", default: "8" },
    "dpu-every": { type: "string", default: "1" },
    address: { type: "string", default: "ports" },
    "loopback-port": { type: "string" },
    "admin-port": { type: "string" },
    latency: { type: "string", default: "zero" },
    tls: { type: "boolean", default: false },
    "all-bootable": { type: "boolean", default: false },
    on: { type: "boolean", default: false },
    prefix: { type: "string", default: "node" },
    dialect: { type: "string", default: "lab" },
    help: { type: "boolean", short: "h", default: false },
  },
});

if (values.help) {
  console.log(
    "usage: npx tsx sim/redfish/main.ts --hosts N [--dpu-every K] [--address ports|loopback|netns] [--loopback-port P] [--admin-port P] [--latency zero|realistic] [--tls] [--all-bootable] [--on] [--prefix node] [--dialect lab|multi-node|dmtf-smartnic|dmtf-rackmount|sticky-boot|basic-auth|ipmi-console|no-console|tls-only]",
  );
  process.exit(0);
}

const int = (name: string, v: string | undefined) => {
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v)) {
    console.error(`--${name} must be a non-negative integer, got '${v}'`);
    process.exit(2);
  }
  return Number(v);
};
if (values.address !== "ports" && values.address !== "loopback" && values.address !== "netns") {
  console.error("--address must be ports, loopback or netns (netns: inside `unshare -n` only)");
  process.exit(2);
}
if (values.latency !== "zero" && values.latency !== "realistic") {
  console.error("--latency must be zero or realistic");
  process.exit(2);
}

const t0 = performance.now();
const sim = await startRedfishSim({
  hosts: int("hosts", values.hosts) ?? 8,
  dpuEvery: int("dpu-every", values["dpu-every"]),
  address: values.address,
  loopbackPort: int("loopback-port", values["loopback-port"]),
  adminPort: int("admin-port", values["admin-port"]),
  latency: values.latency,
  tls: values.tls,
  allBootable: values["all-bootable"],
  initialPower: values.on ? "On" : "Off",
  idPrefix: values.prefix,
  dialect: values.dialect as DialectName,
});
console.log(`Redfish simulator: ${sim.bmcs.length} BMCs started in ${Math.round(performance.now() - t0)} ms`);
console.log(`admin API: ${sim.adminUrl}/admin/bmcs`);
for (const b of sim.bmcs.slice(0, 6))
  console.log(`  ${b.kind.padEnd(4)} ${b.id.padEnd(16)} ${b.url === b.baseUrl ? `${b.url}/redfish/v1/` : b.url}  (${b.username}/${b.password})`);
if (sim.bmcs.length > 6) console.log(`  ... ${sim.bmcs.length - 6} more (GET ${sim.adminUrl}/admin/bmcs?cursor=0&limit=100)`);

const stop = async () => {
  await sim.close();
  process.exit(0);
};
process.on("SIGINT", stop);
process.on("SIGTERM", stop);
