// CLI entry of the DPU agent:
//   npx tsx agent/main.ts --backend sim|linux --port 0 --token <token> [--host 127.0.0.1] [--admin]
//     sim:   [--latency zero|realistic] [--storage-url URL --storage-token T]
//     linux: --state-dir DIR [--spdk-socket /var/tmp/spdk.sock] [--bridge br-int] [--ovs-rundir DIR]
//            [--uplink PORT] [--nic-port-type dummy|internal] [--vxlan-local-ip IP]
//            [--emulation spdk|qemu]  qemu (the real lab: hot-plug into the host's QEMU over QMP):
//              --qmp-socket S --root-ports rp1,rp2,... [--qemu-netns FILE] [--dpu-netns FILE] [--id-prefix P]
//              [--tap-prefix P] [--ceph-conf FILE]
// The token may also come from ANVIL_AGENT_TOKEN (keeps it out of `ps`). Prints the listening URL as JSON.
import { parseArgs } from "node:util";
import pino from "pino";
import { createLinuxBackend, type LinuxBackendOptions } from "./backends/linux";
import { createSimBackend } from "./backends/sim";
import type { AgentBackend } from "./backends/types";
import { createAgentServer } from "./server";

const { values } = parseArgs({
  options: {
    backend: { type: "string", default: "sim" },
    port: { type: "string", default: "0" },
    host: { type: "string", default: "127.0.0.1" },
    token: { type: "string" },
    admin: { type: "boolean", default: false },
    latency: { type: "string", default: "zero" },
    "storage-url": { type: "string" },
    "storage-token": { type: "string" },
    "state-dir": { type: "string" },
    "spdk-socket": { type: "string" },
    bridge: { type: "string" },
    "ovs-rundir": { type: "string" },
    uplink: { type: "string" },
    "nic-port-type": { type: "string" },
    "vxlan-local-ip": { type: "string" },
    emulation: { type: "string", default: "spdk" },
    "qmp-socket": { type: "string" },
    "qemu-netns": { type: "string" },
    "dpu-netns": { type: "string" },
    "root-ports": { type: "string" },
    "id-prefix": { type: "string" },
    "tap-prefix": { type: "string" },
    "ceph-conf": { type: "string" },
  },
  strict: true,
});

function fail(message: string): never {
  process.stderr.write(`agent: ${message}\n`);
  process.exit(2);
}

// Logs go to stderr so stdout carries only the machine-readable {"url"} line.
const log = pino({ name: "anvil-agent" }, pino.destination(2));
const token = values.token ?? process.env.ANVIL_AGENT_TOKEN;
if (!token) fail("--token (or ANVIL_AGENT_TOKEN) is required");
const port = Number(values.port);
if (!Number.isInteger(port) || port < 0 || port > 65535) fail(`--port must be 0..65535, got ${values.port}`);

let backend: AgentBackend;
if (values.backend === "sim") {
  if (values.latency !== "zero" && values.latency !== "realistic") fail("--latency must be zero or realistic");
  backend = createSimBackend({ latency: values.latency, storageUrl: values["storage-url"], storageToken: values["storage-token"] });
} else if (values.backend === "linux") {
  if (!values["state-dir"]) fail("--state-dir is required with --backend linux");
  let emulation: LinuxBackendOptions["emulation"];
  if (values.emulation === "qemu") {
    if (!values["qmp-socket"]) fail("--qmp-socket is required with --emulation qemu");
    const rootPorts = (values["root-ports"] ?? "")
      .split(",")
      .map((s) => s.trim())
      .filter(Boolean);
    if (rootPorts.length === 0) fail("--root-ports rp1,rp2,... (the host's free pcie-root-port ids) is required with --emulation qemu");
    emulation = {
      kind: "qemu",
      qmpSocket: values["qmp-socket"],
      rootPorts,
      qemuNetns: values["qemu-netns"],
      dpuNetns: values["dpu-netns"],
      idPrefix: values["id-prefix"],
      tapPrefix: values["tap-prefix"],
      cephConf: values["ceph-conf"],
    };
  } else if (values.emulation !== "spdk") fail(`--emulation must be spdk or qemu, got ${values.emulation}`);
  backend = await createLinuxBackend({
    emulation,
    vxlanLocalIp: values["vxlan-local-ip"],
    stateDir: values["state-dir"],
    spdkSocket: values["spdk-socket"],
    bridge: values.bridge,
    ovsRunDir: values["ovs-rundir"],
    uplinkPort: values.uplink,
    nicPortType: values["nic-port-type"],
  }).catch((err: Error) => fail(err.message));
} else {
  fail(`--backend must be sim or linux, got ${values.backend}`);
}

const agent = createAgentServer({ token, backend, admin: values.admin, log });
const { url } = await agent.listen(port, values.host);
log.info({ url, backend: values.backend, admin: values.admin }, "agent listening");
process.stdout.write(`${JSON.stringify({ url })}\n`);

for (const sig of ["SIGINT", "SIGTERM"] as const) {
  process.once(sig, () => {
    log.info({ sig }, "agent stopping");
    agent.close().then(() => process.exit(0));
  });
}
