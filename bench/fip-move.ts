// A floating IP move on real userspace Open vSwitch (issue #15 (c)): the time from the overlay PUT that moves a
// floating IP to the first HTTP answer from the new fixed address, seen from the provider network. No QEMU: one
// emulated DPU (its own namespace and switch, sim/real/dpu.ts's startOvs and joinProvider) joined to the real lab's
// provider network (sim/real/provider.ts), two "guests" that are namespaces on veth pairs in the places of the DPU's
// NIC representors (pf1vf0, pf1vf1; checksums computed in the guests' kernels, tx offload off, as a virtio NIC
// without offload does), each serving its name with python3's http.server, and the DPU agent's linux backend behind
// its real HTTP server in process. Each repetition PUTs the overlay with the floating IP on the other guest and then
// fetches http://<floating IP>:8080/ from the provider's namespace (a curl every few ms) until the other guest
// answers. Both guests sit behind this one DPU, so the provider's ARP entry for the floating IP stays right (the
// same router MAC): the figure is the agent's and the datapath's (flows swapped in one bundle, conntrack bindings
// flushed). A move between DPUs also needs the provider to learn the new DPU's MAC (the real-lab spec prints that).
// Prints figures; asserts nothing. Needs root, openvswitch-switch, python3, curl and ethtool.
//   npx tsx bench/fip-move.ts [reps=20]
import { execFile, spawn } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createLinuxBackend } from "../agent/backends/linux";
import { createAgentServer } from "../agent/server";
import { createNetns, joinProvider, removeNetns, startOvs, stopOvs, vsctlOf } from "../sim/real/dpu";
import { startProviderNetwork } from "../sim/real/provider";

const REPS = Number(process.argv[2] ?? 20);
const TOKEN = "fip-move-bench";
const VNI = 5400;
const PORT = 8080;
const FIP = "203.0.113.50";
const ROUTER = "02:a4:e1:00:40:01";
const GUESTS = [
  { name: "guest-0", ip: "10.40.1.10", mac: "02:00:00:00:40:0a", port: "pf1vf0" },
  { name: "guest-1", ip: "10.40.1.11", mac: "02:00:00:00:40:0b", port: "pf1vf1" },
];

const sh = (args: string[], timeout = 30_000) =>
  new Promise<string>((res, rej) =>
    execFile(args[0]!, args.slice(1), { timeout, env: { ...process.env, PATH: `${process.env.PATH}:/usr/sbin:/sbin` } }, (err, out, stderr) =>
      err ? rej(new Error(`${args.join(" ")}: ${(stderr || err.message).trim()}`)) : res(out),
    ),
  );
const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))]!;

const dir = await mkdtemp(join(tmpdir(), "anvil-fip-move-"));
const dpuNs = join(dir, "dpu", "netns");
const ovs = join(dir, "dpu", "ovs");
const servers: number[] = [];
const provider = await startProviderNetwork({ dir: join(dir, "provider") });
let agent: ReturnType<typeof createAgentServer> | undefined;
try {
  mkdirSync(join(dir, "dpu"), { recursive: true });
  await createNetns(dpuNs);
  await startOvs(dpuNs, ovs);
  const vsctl = vsctlOf(ovs);
  await vsctl("add-br", "br-int", "--", "set", "Bridge", "br-int", "datapath_type=netdev");
  await joinProvider(dpuNs, { netns: provider.netns, peer: "pu1", vlanId: provider.vlanId, attach: provider.attach }, vsctl);
  for (const g of GUESTS) {
    const ns = join(dir, g.name, "netns");
    mkdirSync(join(dir, g.name, "www"), { recursive: true });
    writeFileSync(join(dir, g.name, "www", "index.html"), g.name);
    await createNetns(ns);
    await sh(["nsenter", `--net=${dpuNs}`, "ip", "link", "add", g.port, "type", "veth", "peer", "name", "eth0", "netns", ns]);
    await sh(["nsenter", `--net=${dpuNs}`, "ip", "link", "set", g.port, "up"]);
    const inG = (args: string[]) => sh(["nsenter", `--net=${ns}`, ...args]);
    await inG(["ethtool", "-K", "eth0", "tx", "off"]);
    await inG(["ip", "link", "set", "eth0", "address", g.mac, "up"]);
    await inG(["ip", "addr", "add", `${g.ip}/24`, "dev", "eth0"]);
    await inG(["ip", "route", "add", "default", "via", "10.40.1.1"]);
    const child = spawn("nsenter", [`--net=${ns}`, "python3", "-m", "http.server", String(PORT), "--directory", join(dir, g.name, "www")], {
      stdio: "ignore",
    });
    servers.push(child.pid!);
  }

  const backend = await createLinuxBackend({ stateDir: join(dir, "agent"), spdkSocket: join(dir, "spdk.sock"), ovsRunDir: ovs, uplinkPort: "uplink" });
  agent = createAgentServer({ token: TOKEN, backend });
  const { url } = await agent.listen(0);
  const call = async (method: string, path: string, body: unknown) => {
    const r = await fetch(url + path, {
      method,
      headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    const text = await r.text();
    if (r.status >= 300) throw new Error(`${method} ${path}: ${r.status} ${text}`);
    return JSON.parse(text) as { port?: string };
  };
  const rules = {
    ingress: [{ id: "web", ethertype: "ipv4", protocol: "tcp", portMin: PORT, cidr: "0.0.0.0/0" }],
    egress: [{ id: "out", ethertype: "ipv4", protocol: "any", cidr: "0.0.0.0/0" }],
  };
  for (const g of GUESTS) {
    const r = await call("PUT", `/v1/nics/${g.name}`, { mac: g.mac, network: { type: "vxlan", vni: VNI }, rules });
    if (r.port !== g.port) throw new Error(`the agent put ${g.name} on ${r.port}, not on its veth ${g.port}`);
  }
  const holdBy = (i: number) =>
    call("PUT", `/v1/overlay/vxlan/${VNI}`, {
      remoteIps: [],
      neighbors: GUESTS.map(({ ip, mac }) => ({ ip, mac })),
      router: {
        mac: ROUTER,
        subnets: [{ cidr: "10.40.1.0/24", gateway: "10.40.1.1" }],
        external: {
          vlanId: provider.vlanId,
          mac: "02:a4:e1:00:40:ee",
          cidr: provider.cidr,
          gateway: provider.gateway,
          gatewayMac: provider.gatewayMac,
          snatIp: "203.0.113.5",
          floatingIps: [{ ip: FIP, fixedIp: GUESTS[i]!.ip }],
        },
      },
    });
  const get = () => sh(["nsenter", `--net=${provider.netns}`, "curl", "-s", "-m", "1", `http://${FIP}:${PORT}/`], 5_000).catch(() => "");
  /** Fetches until `name` answers; the time of that answer (ms, performance clock) and the attempts it took. */
  const until = async (name: string, limitMs = 30_000) => {
    const end = performance.now() + limitMs;
    for (let n = 1; ; n++) {
      if ((await get()) === name) return { at: performance.now(), attempts: n };
      if (performance.now() > end) throw new Error(`${name} did not answer on ${FIP} within ${limitMs / 1000} s`);
    }
  };
  await holdBy(0);
  await until(GUESTS[0]!.name);

  const put: number[] = [];
  const answer: number[] = [];
  let holder = 0;
  for (let rep = 0; rep < REPS; rep++) {
    holder = 1 - holder;
    const t0 = performance.now();
    await holdBy(holder);
    const t1 = performance.now();
    const { at } = await until(GUESTS[holder]!.name);
    put.push(t1 - t0);
    answer.push(at - t0);
  }
  const fmt = (xs: number[]) => `median ${pct(xs, 50).toFixed(0)} ms, p95 ${pct(xs, 95).toFixed(0)} ms, max ${Math.max(...xs).toFixed(0)} ms`;
  const probe: number[] = [];
  for (let i = 0; i < 10; i++) {
    const t = performance.now();
    await get();
    probe.push(performance.now() - t);
  }
  console.log(`floating IP moves between two guests behind one DPU (real userspace OVS), ${REPS} repetitions:`);
  console.log(`  overlay PUT answered:               ${fmt(put)}`);
  console.log(`  PUT sent -> first answer from the new guest: ${fmt(answer)}`);
  console.log(`  (one fetch from the provider namespace: median ${pct(probe, 50).toFixed(0)} ms — the figure's resolution)`);
} finally {
  await agent?.close();
  for (const pid of servers) {
    try {
      process.kill(pid, "SIGTERM");
    } catch {
      // gone
    }
  }
  await stopOvs(ovs);
  for (const g of GUESTS) await removeNetns(join(dir, g.name, "netns"));
  await removeNetns(dpuNs);
  await provider.stop();
  await rm(dir, { recursive: true, force: true });
}
