// Test harness: what the guest's cloud-init makes of a network-config, by running the real
// `cloud-init devel net-convert` (Debian package "cloud-init", 22.4 on Debian 12) for each renderer a guest may use:
// eni (Debian's ifupdown), sysconfig (RHEL-family network-scripts), networkd, netplan (Ubuntu) and NetworkManager.
// Fails (never skips) when cloud-init is missing, naming the package to install. expectRendered() asserts that the
// static address, the default route/gateway and the name servers survive into a renderer's output files.
import { execFile } from "node:child_process";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { expect } from "vitest";

export const RENDERERS = ["eni", "sysconfig", "networkd", "netplan", "network-manager"] as const;
export type Renderer = (typeof RENDERERS)[number];

/** The distro cloud-init is told it runs on, per renderer (each renderer's usual home). */
const DISTRO: Record<Renderer, string> = { eni: "debian", sysconfig: "rhel", networkd: "debian", netplan: "ubuntu", "network-manager": "rhel" };

function run(cmd: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string; missing: boolean }> {
  return new Promise((resolve) => {
    execFile(
      cmd,
      args,
      { timeout: 60_000, env: { NODE_ENV: process.env.NODE_ENV, PATH: process.env.PATH ?? "/usr/bin:/bin", LANG: "C.UTF-8" } },
      (err, stdout, stderr) => {
        const e = err as (NodeJS.ErrnoException & { code?: number | string }) | null;
        resolve({ code: e ? (typeof e.code === "number" ? e.code : -1) : 0, stdout, stderr, missing: e?.code === "ENOENT" });
      },
    );
  });
}

async function listFiles(dir: string, base = dir): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...(await listFiles(p, base)));
    else out.push(path.relative(base, p));
  }
  return out;
}

/**
 * Runs `cloud-init devel net-convert -k yaml -O <renderer>` on a network-config document (the exact bytes a seed
 * carries) and returns the files it wrote, path → content. Rejects with cloud-init's own error when it fails.
 */
export async function netConvert(networkConfigYaml: string, renderer: Renderer): Promise<Record<string, string>> {
  const dir = await mkdtemp(path.join(tmpdir(), "anvil-net-convert-"));
  try {
    const input = path.join(dir, "network-config");
    await writeFile(input, networkConfigYaml);
    const args = ["devel", "net-convert", "-p", input, "-k", "yaml", "-d", path.join(dir, "out"), "-D", DISTRO[renderer], "-O", renderer];
    let r = await run("cloud-init", args);
    // Without the console-script wrapper, the module entry point of Debian's python3-cloudinit does the same.
    if (r.missing) r = await run("/usr/bin/python3", ["-m", "cloudinit.cmd.main", ...args]);
    if (r.missing || /No module named cloudinit/.test(r.stderr)) {
      throw new Error("cloud-init not found: install it with `apt-get install -y cloud-init` (scripts/system-deps.sh)");
    }
    if (r.code !== 0) {
      const last = r.stderr.trim().split("\n").at(-1) ?? "";
      throw new Error(`cloud-init net-convert to ${renderer} failed: ${last}`);
    }
    const out: Record<string, string> = {};
    for (const f of await listFiles(path.join(dir, "out"))) out[f] = await readFile(path.join(dir, "out", f), "utf8");
    return out;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export interface ExpectedNetwork {
  address: string;
  prefix: number;
  gateway: string;
  dns: string[];
}

function file(files: Record<string, string>, suffix: string): string {
  const hit = Object.keys(files).find((f) => f.endsWith(suffix));
  if (!hit) throw new Error(`net-convert wrote no ${suffix}; it wrote ${Object.keys(files).join(", ") || "nothing"}`);
  return files[hit]!;
}

function v4mask(prefix: number): string {
  const m = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
  return [24, 16, 8, 0].map((shift) => (m >>> shift) & 0xff).join(".");
}

/** Asserts the renderer's files give the interface its static address, a default route via the gateway and the DNS servers. */
export function expectRendered(renderer: Renderer, files: Record<string, string>, want: ExpectedNetwork): void {
  const v6 = want.address.includes(":");
  const cidr = `${want.address}/${want.prefix}`;
  switch (renderer) {
    case "eni": {
      const eni = file(files, "etc/network/interfaces.d/50-cloud-init");
      expect(eni).toContain(`iface eth0 ${v6 ? "inet6" : "inet"} static`);
      expect(eni).toContain(`address ${cidr}`);
      // ifupdown's own "gateway <gw>" (it runs `ip route`), or iproute2 for IPv6 — never net-tools' `route add default
      // gw`, which Debian's cloud images do not have: the guest would come up with no default route.
      expect(eni).not.toMatch(/^\s*(post-up|up) route add/m);
      expect(eni).toMatch(new RegExp(`(^\\s*gateway ${want.gateway}$|ip -6 route add default via ${want.gateway}\\b)`, "m"));
      for (const d of want.dns) expect(eni).toMatch(new RegExp(`dns-nameservers .*\\b${d}\\b`));
      break;
    }
    case "sysconfig": {
      const ifcfg = file(files, "etc/sysconfig/network-scripts/ifcfg-eth0");
      if (v6) {
        expect(ifcfg).toContain(`IPV6ADDR=${cidr}`);
        expect(ifcfg).toContain(`IPV6_DEFAULTGW=${want.gateway}`);
      } else {
        expect(ifcfg).toContain(`IPADDR=${want.address}`);
        expect(ifcfg).toMatch(new RegExp(`(NETMASK=${v4mask(want.prefix).replace(/\./g, "\\.")}|PREFIX=${want.prefix})`));
        expect(ifcfg).toContain(`GATEWAY=${want.gateway}`);
      }
      // No route file that turns the default into something narrower (22.4 writes ::/0 as ::/64).
      for (const [name, text] of Object.entries(files)) if (/route6-eth0$/.test(name)) expect(text).not.toMatch(/^::\/(?!0\b)\d+ via/m);
      for (const [i, d] of want.dns.entries()) expect(ifcfg).toContain(`DNS${i + 1}=${d}`);
      break;
    }
    case "networkd": {
      const unit = file(files, "etc/systemd/network/10-cloud-init-eth0.network");
      expect(unit).toContain(`Address=${cidr}`);
      const routes = unit.split(/^\[Route\]$/m).slice(1);
      const defaultRoute = routes.find((r) => r.includes(`Gateway=${want.gateway}`));
      expect(defaultRoute, `no [Route] with Gateway=${want.gateway} in:\n${unit}`).toBeDefined();
      const dest = /^Destination=(.+)$/m.exec(defaultRoute!)?.[1];
      expect(dest === undefined || dest === (v6 ? "::/0" : "0.0.0.0/0"), `the default route goes to ${dest}`).toBe(true);
      for (const d of want.dns) expect(unit).toMatch(new RegExp(`^DNS=.*\\b${d}\\b`, "m"));
      break;
    }
    case "netplan": {
      const plan = file(files, "etc/netplan/50-cloud-init.yaml");
      expect(plan).toContain(`- ${cidr}`);
      // netplan itself reads `to: default`; what matters is that the default goes via the gateway.
      const gw = want.gateway.replace(/\./g, "\\.");
      expect(plan).toMatch(
        new RegExp(v6 ? `(gateway6: ${gw}$|to: (::/0|default)\\s+via: ${gw}$)` : `(gateway4: ${gw}$|to: (0\\.0\\.0\\.0/0|default)\\s+via: ${gw}$)`, "m"),
      );
      for (const d of want.dns) expect(plan).toContain(`- ${d}`);
      break;
    }
    case "network-manager": {
      const conn = file(files, "cloud-init-eth0.nmconnection");
      const section = conn.split(/^\[/m).find((s) => s.startsWith(v6 ? "ipv6]" : "ipv4]")) ?? "";
      expect(section).toContain("method=manual");
      expect(section).toContain(`address1=${cidr}`);
      expect(section).toMatch(new RegExp(`^(gateway=${want.gateway}|route\\d+=${v6 ? "::/0" : "0\\.0\\.0\\.0/0"},${want.gateway})$`, "m"));
      for (const d of want.dns) expect(section).toMatch(new RegExp(`^dns=.*${d};`, "m"));
      break;
    }
  }
}
