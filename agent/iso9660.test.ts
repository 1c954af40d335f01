// Checks the in-memory NoCloud ISO writer (used by the sim backend) with the real isoinfo and blkid.
import { execFileSync } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildIso } from "./iso9660";

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "anvil-iso-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const tool = (cmd: string, args: string[], pkg: string) => {
  try {
    return execFileSync(cmd, args, { encoding: "utf8" });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") throw new Error(`${cmd} is missing: apt-get install -y ${pkg}`);
    throw err;
  }
};

describe("buildIso", () => {
  it("writes an image isoinfo reads with Joliet names and blkid labels cidata", async () => {
    const big = Buffer.alloc(10_000, "y");
    const files = [
      { name: "user-data", data: Buffer.from("#cloud-config\nhostname: h\n") },
      { name: "meta-data", data: big },
      { name: "network-config", data: Buffer.from("network:\n  version: 2\n") },
    ];
    const iso = buildIso("cidata", files, new Date("2026-03-04T05:06:07Z"));
    expect(iso.length % 2048).toBe(0);
    const path = join(dir, "seed.iso");
    await writeFile(path, iso);
    const info = tool("isoinfo", ["-d", "-i", path], "genisoimage");
    expect(info).toMatch(/^Volume id: cidata$/m);
    expect(info).toMatch(/Joliet with UCS level 3 found/);
    expect(tool("isoinfo", ["-J", "-f", "-i", path], "genisoimage").split("\n").filter(Boolean).sort()).toEqual([
      "/meta-data",
      "/network-config",
      "/user-data",
    ]);
    for (const f of files) expect(Buffer.from(execFileSync("isoinfo", ["-J", "-x", `/${f.name}`, "-i", path])).equals(f.data)).toBe(true);
    expect(tool("blkid", ["-o", "value", "-s", "LABEL", path], "util-linux").trim()).toBe("cidata");
  });
});
