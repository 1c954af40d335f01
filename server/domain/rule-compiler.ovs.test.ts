// The compiled rule set on the REAL data plane: a private userspace Open vSwitch (ovsdb-server + ovs-vswitchd
// --enable-dummy, netdev datapath) driven by the DPU agent's linux backend; the compiler's output is PUT as a NIC's
// rules, and `ovs-appctl ofproto/trace` must agree, packet by packet, with the evaluator over the same RuleSet and with
// the source rules. A missing Open vSwitch fails the test with the package to install.
import { execFile } from "node:child_process";
import { accessSync, constants, existsSync, readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLinuxBackend } from "@/agent/backends/linux";
import { type AgentServer, createAgentServer } from "@/agent/server";
import { type CompileInput, compileRuleSet, type Packet, ruleSetAllows, type SourceRule, sourceRulesAllow } from "./rule-compiler";

const TOKEN = "compiler-ovs-test";
const MAC = "02:00:00:00:10:0a";
const PEER_MAC = "02:00:00:00:99:01";
const NIC_IP = "10.0.1.10";
const NIC_IP6 = "fd00:0:0:1::10";

let dir: string;
let env: NodeJS.ProcessEnv;
let agent: AgentServer;
let url: string;

const must = (cmd: string, args: string[]) =>
  new Promise<string>((resolve, reject) =>
    execFile(cmd, args, { env: { ...env, PATH: `${env.PATH}:/usr/sbin:/sbin` }, timeout: 20_000 }, (err, stdout, stderr) =>
      err ? reject(new Error(`${cmd} ${args.join(" ")} failed: ${stderr}`)) : resolve(stdout),
    ),
  );

function requireOvs(): void {
  const dirs = [...(process.env.PATH ?? "").split(delimiter), "/usr/sbin", "/sbin"];
  for (const tool of ["ovsdb-tool", "ovsdb-server", "ovs-vswitchd", "ovs-vsctl", "ovs-appctl"])
    if (
      !dirs.some((d) => {
        try {
          accessSync(join(d, tool), constants.X_OK);
          return true;
        } catch {
          return false;
        }
      })
    )
      throw new Error(`missing ${tool}: install it with apt-get install -y openvswitch-switch`);
}

let n = 0;
const rule = (r: Partial<SourceRule> & Pick<SourceRule, "direction">): SourceRule => ({
  id: `r${++n}`,
  ethertype: "ipv4",
  protocol: "any",
  portMin: null,
  portMax: null,
  remoteCidr: null,
  remoteGroupId: null,
  ...r,
});

// A web server's groups: SSH from the office, HTTP(S) from anywhere, an app port range from the "app" group's
// members, a wide overlapping tcp rule from 10/8, DNS over udp, ICMP from app members, everything from a mgmt /24,
// egress only HTTPS and DNS (plus anything to the app group); IPv6 SSH from a ULA range.
const input: CompileInput = {
  rules: [
    rule({ direction: "ingress", protocol: "tcp", portMin: 22, portMax: 22, remoteCidr: "203.0.113.0/24" }),
    rule({ direction: "ingress", protocol: "tcp", portMin: 80, portMax: 80, remoteCidr: "0.0.0.0/0" }),
    rule({ direction: "ingress", protocol: "tcp", portMin: 443, portMax: 443, remoteCidr: "0.0.0.0/0" }),
    rule({ direction: "ingress", protocol: "tcp", portMin: 8080, portMax: 8090, remoteGroupId: "app" }),
    rule({ direction: "ingress", protocol: "tcp", portMin: 1, portMax: 1024, remoteCidr: "10.0.0.0/8" }),
    rule({ direction: "ingress", protocol: "udp", portMin: 53, portMax: 53, remoteCidr: "10.0.0.0/8" }),
    rule({ direction: "ingress", protocol: "icmp", remoteGroupId: "app" }),
    rule({ direction: "ingress", protocol: "any", remoteCidr: "10.0.9.0/24" }),
    rule({ direction: "egress", protocol: "tcp", portMin: 443, portMax: 443, remoteCidr: "0.0.0.0/0" }),
    rule({ direction: "egress", protocol: "udp", portMin: 53, portMax: 53, remoteCidr: "0.0.0.0/0" }),
    rule({ direction: "egress", protocol: "any", remoteGroupId: "app" }),
    rule({ direction: "ingress", ethertype: "ipv6", protocol: "tcp", portMin: 22, portMax: 22, remoteCidr: "fd00::/48" }),
  ],
  groupMembers: { app: ["10.0.1.21", "10.0.1.22", "192.168.5.7"] },
};

const table: [Packet, boolean][] = [
  [{ direction: "ingress", protocol: "tcp", port: 22, remote: "203.0.113.9" }, true],
  [{ direction: "ingress", protocol: "tcp", port: 22, remote: "198.51.100.9" }, false],
  [{ direction: "ingress", protocol: "tcp", port: 23, remote: "203.0.113.9" }, false],
  [{ direction: "ingress", protocol: "tcp", port: 80, remote: "198.51.100.9" }, true],
  [{ direction: "ingress", protocol: "tcp", port: 443, remote: "198.51.100.9" }, true],
  [{ direction: "ingress", protocol: "udp", port: 443, remote: "198.51.100.9" }, false],
  [{ direction: "ingress", protocol: "tcp", port: 8080, remote: "192.168.5.7" }, true],
  [{ direction: "ingress", protocol: "tcp", port: 8090, remote: "10.0.1.22" }, true],
  [{ direction: "ingress", protocol: "tcp", port: 8091, remote: "192.168.5.7" }, false],
  [{ direction: "ingress", protocol: "tcp", port: 8085, remote: "192.168.5.8" }, false],
  [{ direction: "ingress", protocol: "tcp", port: 1024, remote: "10.77.0.1" }, true],
  [{ direction: "ingress", protocol: "tcp", port: 1025, remote: "10.77.0.1" }, false],
  [{ direction: "ingress", protocol: "udp", port: 53, remote: "10.77.0.1" }, true],
  [{ direction: "ingress", protocol: "udp", port: 54, remote: "10.77.0.1" }, false],
  [{ direction: "ingress", protocol: "icmp", remote: "10.0.1.21" }, true],
  [{ direction: "ingress", protocol: "icmp", remote: "10.0.1.23" }, false],
  [{ direction: "ingress", protocol: "udp", port: 5000, remote: "10.0.9.200" }, true],
  [{ direction: "ingress", protocol: "tcp", port: 65535, remote: "10.0.9.200" }, true],
  [{ direction: "egress", protocol: "tcp", port: 443, remote: "8.8.8.8" }, true],
  [{ direction: "egress", protocol: "tcp", port: 80, remote: "8.8.8.8" }, false],
  [{ direction: "egress", protocol: "udp", port: 53, remote: "8.8.8.8" }, true],
  [{ direction: "egress", protocol: "tcp", port: 5432, remote: "10.0.1.22" }, true],
  [{ direction: "egress", protocol: "tcp", port: 5432, remote: "10.0.1.23" }, false],
  [{ direction: "ingress", protocol: "tcp", port: 22, remote: "fd00::7" }, true],
  [{ direction: "ingress", protocol: "tcp", port: 22, remote: "fd01::7" }, false],
];

/** Datapath ports the traced packet is finally output to (the last recirculation stage), as in the agent's tests. */
function outputs(text: string): number[] {
  const lines = text.split("\n").filter((l) => l.startsWith("Datapath actions:"));
  const last = lines.at(-1)?.slice("Datapath actions:".length).trim() ?? "";
  const out: number[] = [];
  let depth = 0;
  let token = "";
  for (const ch of `${last},`) {
    if (ch === "(") depth++;
    if (ch === ")") depth--;
    if (ch === "," && depth === 0) {
      if (/^\d+$/.test(token.trim())) out.push(Number(token.trim()));
      token = "";
    } else token += ch;
  }
  return out;
}

describe("compiled rules on Open vSwitch (ofproto/trace)", () => {
  let dp: Record<string, number> = {};
  let nicPort = "";
  let nicOfport = "";
  const appctl = (...args: string[]) => must("ovs-appctl", ["-t", join(dir, "ovs-vswitchd.ctl"), ...args]);

  beforeAll(async () => {
    requireOvs();
    dir = await mkdtemp(join(tmpdir(), "anvil-compiler-ovs-"));
    env = { ...process.env, OVS_RUNDIR: dir, OVS_DBDIR: dir, OVS_LOGDIR: dir, OVS_SYSCONFDIR: dir };
    await must("ovsdb-tool", ["create", join(dir, "conf.db"), "/usr/share/openvswitch/vswitch.ovsschema"]);
    await must("ovsdb-server", [
      join(dir, "conf.db"),
      `--remote=punix:${join(dir, "db.sock")}`,
      `--pidfile=${join(dir, "ovsdb-server.pid")}`,
      `--unixctl=${join(dir, "ovsdb-server.ctl")}`,
      `--log-file=${join(dir, "ovsdb-server.log")}`,
      "--detach",
    ]);
    await must("ovs-vsctl", [`--db=unix:${join(dir, "db.sock")}`, "--no-wait", "init"]);
    await must("ovs-vswitchd", [
      "--enable-dummy",
      "--disable-system",
      `--pidfile=${join(dir, "ovs-vswitchd.pid")}`,
      `--unixctl=${join(dir, "ovs-vswitchd.ctl")}`,
      `--log-file=${join(dir, "ovs-vswitchd.log")}`,
      "--detach",
      `unix:${join(dir, "db.sock")}`,
    ]);
    await must("ovs-vsctl", [
      `--db=unix:${join(dir, "db.sock")}`,
      "add-br",
      "br-int",
      "--",
      "set",
      "Bridge",
      "br-int",
      "datapath_type=netdev",
      "--",
      "add-port",
      "br-int",
      "uplink",
      "--",
      "set",
      "Interface",
      "uplink",
      "type=dummy",
    ]);
    // No disks in this test: the SPDK socket is never dialled.
    const backend = await createLinuxBackend({
      stateDir: join(dir, "agent"),
      spdkSocket: join(dir, "spdk.sock"),
      ovsRunDir: dir,
      uplinkPort: "uplink",
      nicPortType: "dummy",
    });
    agent = createAgentServer({ token: TOKEN, backend });
    url = (await agent.listen(0)).url;

    const res = await fetch(`${url}/v1/nics/web`, {
      method: "PUT",
      headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
      body: JSON.stringify({ mac: MAC, network: { type: "vlan", vlanId: 100 }, rules: compileRuleSet(input) }),
    });
    const body = (await res.json()) as { port: string };
    expect(res.status, JSON.stringify(body)).toBe(201);
    nicPort = body.port;
    nicOfport = (await must("ovs-vsctl", [`--db=unix:${join(dir, "db.sock")}`, "get", "Interface", nicPort, "ofport"])).trim();
    const show = await appctl("dpctl/show");
    dp = Object.fromEntries([...show.matchAll(/port (\d+): (\S+)/g)].map((m) => [m[2]!, Number(m[1])]));
  }, 30_000);

  afterAll(async () => {
    await agent?.close();
    for (const name of ["ovs-vswitchd", "ovsdb-server"]) {
      const pidFile = join(dir, `${name}.pid`);
      if (!existsSync(pidFile)) continue;
      const pid = Number(readFileSync(pidFile, "utf8").trim());
      try {
        process.kill(pid, "SIGTERM");
      } catch {
        continue;
      }
      for (let i = 0; i < 50; i++) {
        try {
          process.kill(pid, 0);
          await new Promise((r) => setTimeout(r, 20));
        } catch {
          break;
        }
      }
    }
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  function flowOf(p: Packet): string {
    const v6 = p.remote.includes(":");
    const l3 =
      p.protocol === "tcp"
        ? v6
          ? "tcp6"
          : "tcp"
        : p.protocol === "udp"
          ? v6
            ? "ipv6,nw_proto=17"
            : "ip,nw_proto=17"
          : p.protocol === "icmp"
            ? v6
              ? "icmp6"
              : "icmp"
            : v6
              ? "ipv6,nw_proto=47"
              : "ip,nw_proto=47";
    const [src, dst] = p.direction === "ingress" ? [p.remote, v6 ? NIC_IP6 : NIC_IP] : [v6 ? NIC_IP6 : NIC_IP, p.remote];
    const addrs = v6 ? `ipv6_src=${src},ipv6_dst=${dst}` : `nw_src=${src},nw_dst=${dst}`;
    // udp_src/udp_dst: ofproto/trace's parser refuses tp_src after the "udp" shorthand on this OVS version
    const ports =
      p.port !== undefined
        ? p.protocol === "udp"
          ? `,udp_src=40000,udp_dst=${p.port}`
          : `,tp_src=40000,tp_dst=${p.port}`
        : p.protocol === "icmp"
          ? ",icmp_type=8,icmp_code=0"
          : "";
    const l2 =
      p.direction === "ingress" ? `in_port=uplink,dl_vlan=100,dl_src=${PEER_MAC},dl_dst=${MAC}` : `in_port=${nicOfport},dl_src=${MAC},dl_dst=${PEER_MAC}`;
    return `${l2},${l3},${addrs}${ports}`;
  }

  it.each(table)("%j → allowed=%s on the data plane", async (pkt, allowed) => {
    const set = compileRuleSet(input);
    // the table is the specification: source rules, evaluator and OVS must all agree with it
    expect(sourceRulesAllow(input, pkt)).toBe(allowed);
    expect(ruleSetAllows(set, pkt)).toBe(allowed);
    const text = await appctl("ofproto/trace", "br-int", flowOf(pkt), "--ct-next", "trk,new");
    const target = pkt.direction === "ingress" ? dp[nicPort]! : dp.uplink!;
    if (allowed) expect(outputs(text), text).toContain(target);
    else expect(outputs(text), text).not.toContain(target);
  });
});
