// The operating system's limits a large lab runs into, read once where they are needed: the open-file limit (every
// BMC and agent is one listening socket) and the start of the ephemeral port range (fixed ports stay below it). Used
// by the lab launcher and the benchmarks; no other imports, so a benchmark's load-generator process stays light.
import fs from "node:fs";

/** The soft open-file limit of this process (ulimit -n), or undefined where /proc does not say. */
export function softFileLimit(): number | undefined {
  try {
    const m = /Max open files\s+(\d+)/.exec(fs.readFileSync("/proc/self/limits", "utf8"));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** The first port of the kernel's ephemeral range (the IANA dynamic range where /proc does not say). */
export function ephemeralLow(): number {
  try {
    const lo = Number(fs.readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8").trim().split(/\s+/)[0]);
    if (lo > 0) return lo;
  } catch {
    // not Linux: the IANA dynamic range
  }
  return 49152;
}
