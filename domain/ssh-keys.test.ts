// SSH public key validation table: real keys of every accepted type made by ssh-keygen (fingerprints compared
// with `ssh-keygen -lf`), a hand-built security-key (sk-ssh-ed25519) key, and malformed keys with the reason named.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parseSshPublicKey } from "./ssh-keys";

const dir = mkdtempSync(join(tmpdir(), "anvil-sshkeys-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function keygen(name: string, args: string[]): string {
  const f = join(dir, name);
  execFileSync("ssh-keygen", ["-q", "-N", "", "-C", `${name}@test`, "-f", f, ...args]);
  return readFileSync(`${f}.pub`, "utf8");
}

/** What `ssh-keygen -lf` prints: "<bits> SHA256:... comment (TYPE)". */
function keygenFingerprint(pub: string): { bits: number; fp: string } {
  const f = join(dir, `fp-${Math.random().toString(36).slice(2)}.pub`);
  writeFileSync(f, pub);
  const [bits, fp] = execFileSync("ssh-keygen", ["-lf", f], { encoding: "utf8" }).trim().split(/\s+/) as [string, string];
  return { bits: Number(bits), fp };
}

function sshString(b: Buffer | string): Buffer {
  const v = typeof b === "string" ? Buffer.from(b) : b;
  const len = Buffer.alloc(4);
  len.writeUInt32BE(v.length);
  return Buffer.concat([len, v]);
}

const valid: [string, () => string, string, number][] = [
  ["ed25519", () => keygen("ed", ["-t", "ed25519"]), "ssh-ed25519", 256],
  ["ecdsa p256", () => keygen("ec256", ["-t", "ecdsa", "-b", "256"]), "ecdsa-sha2-nistp256", 256],
  ["ecdsa p384", () => keygen("ec384", ["-t", "ecdsa", "-b", "384"]), "ecdsa-sha2-nistp384", 384],
  ["ecdsa p521", () => keygen("ec521", ["-t", "ecdsa", "-b", "521"]), "ecdsa-sha2-nistp521", 521],
  ["rsa 2048", () => keygen("rsa2048", ["-t", "rsa", "-b", "2048"]), "ssh-rsa", 2048],
  [
    "sk-ssh-ed25519 (hand-built)",
    () => {
      const blob = Buffer.concat([sshString("sk-ssh-ed25519@openssh.com"), sshString(Buffer.alloc(32, 7)), sshString("ssh:")]);
      return `sk-ssh-ed25519@openssh.com ${blob.toString("base64")} yubikey@test`;
    },
    "sk-ssh-ed25519@openssh.com",
    256,
  ],
];

describe("parseSshPublicKey", () => {
  it.each(valid)("accepts %s with ssh-keygen's fingerprint and bit count", (_label, make, type, bits) => {
    const pub = make();
    const r = parseSshPublicKey(pub);
    if (!r.ok) throw new Error(r.reason);
    expect(r.key.type).toBe(type);
    expect(r.key.bits).toBe(bits);
    expect(r.key.comment).toMatch(/@test$/);
    const want = keygenFingerprint(pub);
    expect(r.key.fingerprint).toBe(want.fp);
    expect(r.key.bits).toBe(want.bits);
    // The normalised form carries no comment and still parses to the same key.
    const again = parseSshPublicKey(r.key.publicKey);
    expect(again.ok && again.key.fingerprint).toBe(r.key.fingerprint);
  });

  it("refuses RSA keys under 2048 bits, naming the size", () => {
    const r = parseSshPublicKey(keygen("rsa1024", ["-t", "rsa", "-b", "1024"]));
    expect(r).toEqual({ ok: false, reason: expect.stringMatching(/at least 2048 bits; this one has 1024/) });
  });

  const ed = () => keygen(`ed-${Math.random().toString(36).slice(2, 6)}`, ["-t", "ed25519"]).trim();
  const blobOf = (pub: string) => Buffer.from(pub.split(" ")[1]!, "base64");

  const invalid: [string, () => string, RegExp][] = [
    ["empty", () => "  ", /Paste a public key/],
    ["unknown type", () => "ssh-dss AAAAB3NzaC1kc3MAAACBAP== me", /Unsupported key type "ssh-dss"/],
    ["a private key", () => "-----BEGIN OPENSSH PRIVATE KEY-----", /private key/],
    ["no data", () => "ssh-ed25519", /no key data/],
    ["not base64", () => "ssh-ed25519 not*base64!", /not valid base64/],
    ["two lines", () => `${ed()}\n${ed()}`, /one key on one line/],
    ["type mismatch", () => `ssh-rsa ${blobOf(ed()).toString("base64")}`, /says "ssh-rsa" but its data is a "ssh-ed25519" key/],
    ["truncated", () => `ssh-ed25519 ${blobOf(ed()).subarray(0, 40).toString("base64")}`, /ends in the middle of its public key/],
    ["trailing bytes", () => `ssh-ed25519 ${Buffer.concat([blobOf(ed()), Buffer.from([1, 2, 3])]).toString("base64")}`, /3 unexpected trailing bytes/],
    [
      "short ed25519 key",
      () => `ssh-ed25519 ${Buffer.concat([sshString("ssh-ed25519"), sshString(Buffer.alloc(31, 1))]).toString("base64")}`,
      /32 bytes; this one is 31/,
    ],
    [
      "ecdsa point off the curve",
      () => {
        const q = Buffer.concat([Buffer.from([4]), Buffer.alloc(64, 1)]);
        return `ecdsa-sha2-nistp256 ${Buffer.concat([sshString("ecdsa-sha2-nistp256"), sshString("nistp256"), sshString(q)]).toString("base64")}`;
      },
      /not on the nistp256 curve/,
    ],
    [
      "ecdsa wrong curve name",
      () => {
        const q = Buffer.concat([Buffer.from([4]), Buffer.alloc(64, 1)]);
        return `ecdsa-sha2-nistp256 ${Buffer.concat([sshString("ecdsa-sha2-nistp256"), sshString("nistp384"), sshString(q)]).toString("base64")}`;
      },
      /must name the curve nistp256/,
    ],
    [
      "sk key with a bad application",
      () =>
        `sk-ssh-ed25519@openssh.com ${Buffer.concat([sshString("sk-ssh-ed25519@openssh.com"), sshString(Buffer.alloc(32, 7)), sshString("web:")]).toString("base64")}`,
      /must start with "ssh:"/,
    ],
    [
      "even RSA modulus",
      () => {
        const n = Buffer.concat([Buffer.from([0, 0xc0]), Buffer.alloc(255, 0x02)]);
        return `ssh-rsa ${Buffer.concat([sshString("ssh-rsa"), sshString(Buffer.from([1, 0, 1])), sshString(n)]).toString("base64")}`;
      },
      /modulus is even/,
    ],
  ];

  it.each(invalid)("refuses %s with a reason", (_label, make, reason) => {
    const r = parseSshPublicKey(make());
    expect(r.ok).toBe(false);
    expect(r.ok ? "" : r.reason).toMatch(reason);
  });
});
