// 10,000 hosts + 10,000 DPU BMCs in one process. Each BMC listening on its own socket needs ~20,100 file
// descriptors, above this machine's hard limit (20,000); inside a private network namespace one wildcard listener
// serves every BMC at its own 127.x.y.z address instead. The "netns" mode refuses to run outside such a namespace.
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { startRedfishSim } from "./index";

const run = promisify(execFile);

describe("netns address mode", () => {
  it("holds 10,000 hosts and 10,000 DPU BMCs in one process, each at its own address", async () => {
    const { stdout } = await run(
      "unshare",
      ["-n", "sh", "-c", `ip link set lo up && exec "${process.execPath}" --import tsx sim/redfish/netns-check.ts 10000`],
      { timeout: 120_000, maxBuffer: 1 << 20 },
    );
    const r = JSON.parse(stdout.trim().split("\n").at(-1)!);
    expect(r).toMatchObject({ bmcs: 20_000, hosts: 10_000, dpus: 10_000 });
    expect(r.answers.map((a: { systemType: string }) => a.systemType)).toEqual(["Physical", "DPU", "Physical", "DPU"]);
    const urls = new Set(r.answers.map((a: { url: string }) => new URL(a.url).hostname));
    expect(urls.size).toBe(4);
  }, 150_000);

  it("refuses the wildcard listener outside a private network namespace", async () => {
    await expect(startRedfishSim({ hosts: 1, address: "netns" })).rejects.toThrow(/only allowed inside a private network namespace/);
  });
});
