// The real lab's provider network: the "outside" a VPC's floating IPs and SNAT addresses live on. It is a network
// namespace of its own (bound to <dir>/netns) with its own userspace Open vSwitch (files under <dir>/ovs; the
// sandbox kernels the lab runs on may have no Linux bridge or VLAN devices), bridge br-prov: the provider gateway is
// its internal port "gw", an access port of the provider VLAN holding the gateway address with a fixed MAC (what the
// DPUs' routers send to), and each DPU joins it with one veth pair (StartDpuOptions.uplink: the DPU's end "uplink"
// goes on its br-int and is the agent's --uplink; the other end, a trunk port of br-prov, is plugged in by attach()).
// So br-prov is the provider segment the DPUs' routers answer ARP on, and anything run in the namespace (exec) is "a
// machine on the provider network": what a floating IP is reached from. Checksums: the gateway's frames leave its
// kernel through a tap, which completes them, and the DPUs' switches compute their own, so no offload is left unfinished.
// The addresses are a documentation range (RFC 5737) and exist only inside namespaces the lab made. stop() stops the
// switch and removes the namespace; the DPUs' veth ends go with their own namespaces (a veth pair dies with either end).
import { execFile } from "node:child_process";
import { mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { createNetns, removeNetns, startOvs, stopOvs, vsctlOf } from "./dpu";

export interface ProviderNetworkOptions {
  /** Folder for the namespace file; created. */
  dir: string;
  /** The provider network; default 203.0.113.0/24 (TEST-NET-3). */
  cidr?: string;
  /** The gateway's address in it; default the network's first address. */
  gateway?: string;
  /** The gateway's MAC (what the DPUs' routers send to); default 02:00:cb:00:71:01. */
  gatewayMac?: string;
  /** The provider VLAN on the DPUs' uplinks; default 300 (outside the agent's local VLANs 4000-4094). */
  vlanId?: number;
}

/** What a provider network is in Anvil's terms (networks-admin's fields), plus where it lives. */
export interface ProviderNetworkInfo {
  netns: string;
  cidr: string;
  gateway: string;
  gatewayMac: string;
  vlanId: number;
}

export interface ProviderNetwork extends ProviderNetworkInfo {
  /** Plugs an interface of the provider namespace (a DPU uplink's far end) into br-prov, as a trunk, up. */
  attach(port: string): Promise<void>;
  /** Runs a command inside the provider namespace and returns stdout (throws with stderr). */
  exec(args: string[], timeoutMs?: number): Promise<string>;
  stop(): Promise<void>;
}

const SBIN = "/usr/sbin:/sbin:/usr/bin:/bin";
const BRIDGE = "br-prov";

function sh(args: string[], timeoutMs = 30_000): Promise<string> {
  return new Promise((res, rej) => {
    execFile(args[0]!, args.slice(1), { env: { ...process.env, PATH: `${process.env.PATH ?? ""}:${SBIN}` }, timeout: timeoutMs }, (err, stdout, stderr) => {
      if (err) rej(new Error(`${args.join(" ")} failed: ${(stderr || err.message).trim().slice(0, 500)}`));
      else res(stdout);
    });
  });
}

export async function startProviderNetwork(opts: ProviderNetworkOptions): Promise<ProviderNetwork> {
  const dir = resolve(opts.dir);
  const netns = join(dir, "netns");
  const ovs = join(dir, "ovs");
  const vsctl = vsctlOf(ovs);
  const cidr = opts.cidr ?? "203.0.113.0/24";
  const [net, len] = cidr.split("/");
  const gateway = opts.gateway ?? net!.replace(/\d+$/, (last) => String(Number(last) + 1));
  const gatewayMac = opts.gatewayMac ?? "02:00:cb:00:71:01";
  const vlanId = opts.vlanId ?? 300;
  const exec = (args: string[], timeoutMs?: number) => sh(["nsenter", `--net=${netns}`, ...args], timeoutMs);
  const stop = async () => {
    await stopOvs(ovs);
    await removeNetns(netns);
  };
  mkdirSync(dir, { recursive: true });
  try {
    await stop(); // a leftover of a killed lab
    await createNetns(netns);
    await startOvs(netns, ovs);
    await vsctl("add-br", BRIDGE, "--", "set", "Bridge", BRIDGE, "datapath_type=netdev");
    await vsctl("add-port", BRIDGE, "gw", `tag=${vlanId}`, "--", "set", "Interface", "gw", "type=internal", `mac="${gatewayMac}"`);
    await exec(["ip", "addr", "add", `${gateway}/${len}`, "dev", "gw"]);
    await exec(["ip", "link", "set", "gw", "up"]);
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    netns,
    cidr,
    gateway,
    gatewayMac,
    vlanId,
    exec,
    stop,
    async attach(port) {
      await exec(["ip", "link", "set", port, "up"]);
      await vsctl("add-port", BRIDGE, port);
    },
  };
}
