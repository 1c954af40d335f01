// CLI for the lab storage service: `npx tsx sim/storage/main.ts [--port 8600] [--token T] [--nodes 4]
// [--disks-per-node 6] [--disk-size-bytes N] [--latency zero|realistic] [--default-pools] [--data-dir D]`.
// Prints the URL and token on stdout, runs until SIGINT/SIGTERM. STORAGE_TOKEN sets the token too, STORAGE_DATA_DIR
// the directory for volume bytes (default: a temp dir removed at exit).
import { parseArgs } from "node:util";
import { startStorageService } from "./index";

const { values } = parseArgs({
  options: {
    host: { type: "string", default: "127.0.0.1" },
    port: { type: "string", default: "0" },
    token: { type: "string" },
    nodes: { type: "string", default: "4" },
    "disks-per-node": { type: "string", default: "6" },
    "disk-size-bytes": { type: "string", default: "3840000000000" },
    latency: { type: "string", default: "zero" },
    "default-pools": { type: "boolean", default: false },
    "data-dir": { type: "string" },
    help: { type: "boolean", default: false },
  },
  strict: true,
});

if (values.help) {
  console.log("usage: npx tsx sim/storage/main.ts [--host 127.0.0.1] [--port 0] [--token T] [--nodes 4] [--disks-per-node 6]");
  console.log("       [--disk-size-bytes 3840000000000] [--latency zero|realistic] [--default-pools] [--data-dir D]");
  process.exit(0);
}
const int = (name: string, s: string) => {
  const n = Number(s);
  if (!Number.isSafeInteger(n) || n < 0) {
    console.error(`--${name} must be a non-negative integer, got ${s}`);
    process.exit(2);
  }
  return n;
};
if (values.latency !== "zero" && values.latency !== "realistic") {
  console.error(`--latency must be zero or realistic, got ${values.latency}`);
  process.exit(2);
}

const svc = await startStorageService({
  host: values.host,
  port: int("port", values.port),
  token: values.token ?? process.env.STORAGE_TOKEN,
  nodes: int("nodes", values.nodes),
  disksPerNode: int("disks-per-node", values["disks-per-node"]),
  diskSizeBytes: int("disk-size-bytes", values["disk-size-bytes"]),
  latency: values.latency,
  defaultPools: values["default-pools"],
  dataDir: values["data-dir"] ?? process.env.STORAGE_DATA_DIR,
});
console.log(JSON.stringify({ service: "anvil-storage", url: svc.url, token: svc.token }));
for (const sig of ["SIGINT", "SIGTERM"] as const) {
  process.once(sig, () => {
    svc.close().finally(() => process.exit(0));
  });
}
