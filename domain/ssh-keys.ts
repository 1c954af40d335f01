// SSH public key parsing and validation (the OpenSSH one-line format, `type base64 [comment]`).
// The base64 blob is decoded and its embedded fields checked by hand (RFC 4253 §6.6, RFC 5656 §3.1,
// RFC 8709, OpenSSH PROTOCOL.u2f); RSA/ECDSA/Ed25519 keys are then loaded with node:crypto (via JWK) so
// a point not on its curve or a broken modulus is refused too. The fingerprint is what `ssh-keygen -lf` prints.
import { createHash, createPublicKey } from "node:crypto";

export const SSH_KEY_TYPES = [
  "ssh-ed25519",
  "ecdsa-sha2-nistp256",
  "ecdsa-sha2-nistp384",
  "ecdsa-sha2-nistp521",
  "ssh-rsa",
  "sk-ssh-ed25519@openssh.com",
] as const;
export type SshKeyType = (typeof SSH_KEY_TYPES)[number];

export const MIN_RSA_BITS = 2048;

export interface ParsedSshKey {
  type: SshKeyType;
  bits: number;
  /** Normalised `type base64` without the comment. */
  publicKey: string;
  comment: string | null;
  /** `SHA256:<unpadded base64>` of the blob, as `ssh-keygen -lf` shows it. */
  fingerprint: string;
}

export type SshKeyResult = { ok: true; key: ParsedSshKey } | { ok: false; reason: string };

const ECDSA: Record<string, { curve: string; jwkCrv: string; coord: number; bits: number }> = {
  "ecdsa-sha2-nistp256": { curve: "nistp256", jwkCrv: "P-256", coord: 32, bits: 256 },
  "ecdsa-sha2-nistp384": { curve: "nistp384", jwkCrv: "P-384", coord: 48, bits: 384 },
  "ecdsa-sha2-nistp521": { curve: "nistp521", jwkCrv: "P-521", coord: 66, bits: 521 },
};

/** Reads the SSH wire format's length-prefixed strings from a blob; throws a readable reason when short. */
class Reader {
  private off = 0;
  constructor(private buf: Buffer) {}
  string(what: string): Buffer {
    if (this.off + 4 > this.buf.length) throw new Error(`the key data ends before its ${what}`);
    const len = this.buf.readUInt32BE(this.off);
    this.off += 4;
    if (this.off + len > this.buf.length) throw new Error(`the key data ends in the middle of its ${what}`);
    const out = this.buf.subarray(this.off, this.off + len);
    this.off += len;
    return out;
  }
  /** An mpint as a positive big-endian magnitude (leading zero bytes stripped). */
  mpint(what: string): Buffer {
    const b = this.string(what);
    if (b.length === 0) throw new Error(`its ${what} is empty`);
    if (b[0]! & 0x80) throw new Error(`its ${what} is negative`);
    let i = 0;
    while (i < b.length - 1 && b[i] === 0) i++;
    return b.subarray(i);
  }
  done(): void {
    if (this.off !== this.buf.length) throw new Error(`the key data has ${this.buf.length - this.off} unexpected trailing bytes`);
  }
}

function bitLength(mag: Buffer): number {
  if (mag.length === 0 || (mag.length === 1 && mag[0] === 0)) return 0;
  return (mag.length - 1) * 8 + (32 - Math.clz32(mag[0]!));
}

const b64u = (b: Buffer) => b.toString("base64url");

export function fingerprintOf(blob: Buffer): string {
  return `SHA256:${createHash("sha256").update(blob).digest("base64").replace(/=+$/, "")}`;
}

/** Parses one OpenSSH public key line. Never throws: a bad key gets a reason a person can act on. */
export function parseSshPublicKey(input: string): SshKeyResult {
  const line = input.trim();
  if (!line) return { ok: false, reason: "Paste a public key (the contents of a .pub file)." };
  if (/[\r\n]/.test(line)) return { ok: false, reason: "Paste exactly one key on one line." };
  if (line.startsWith("-----BEGIN")) return { ok: false, reason: "That is a PEM/private key file; paste the OpenSSH public key (the .pub file) instead." };
  const parts = line.split(/\s+/);
  const [type, data, ...rest] = parts as [string, string | undefined, ...string[]];
  if (!(SSH_KEY_TYPES as readonly string[]).includes(type)) {
    return {
      ok: false,
      reason: `Unsupported key type "${type.slice(0, 40)}": use ssh-ed25519, ecdsa-sha2-nistp256/384/521, ssh-rsa (at least ${MIN_RSA_BITS} bits) or sk-ssh-ed25519@openssh.com.`,
    };
  }
  if (!data) return { ok: false, reason: "The key has a type but no key data after it." };
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(data) || data.length % 4 !== 0) return { ok: false, reason: "The key data is not valid base64." };
  const blob = Buffer.from(data, "base64");
  const comment = rest.join(" ").trim() || null;
  try {
    const r = new Reader(blob);
    const inner = r.string("type").toString("latin1");
    if (inner !== type) return { ok: false, reason: `The key says "${type}" but its data is a "${inner.slice(0, 40)}" key.` };
    let bits: number;
    if (type === "ssh-ed25519" || type === "sk-ssh-ed25519@openssh.com") {
      const pk = r.string("public key");
      if (pk.length !== 32) return { ok: false, reason: `An Ed25519 public key is 32 bytes; this one is ${pk.length}.` };
      if (type === "sk-ssh-ed25519@openssh.com") {
        const app = r.string("application").toString("utf8");
        if (!app.startsWith("ssh:")) return { ok: false, reason: `A security-key application must start with "ssh:"; this one is "${app.slice(0, 40)}".` };
      }
      r.done();
      createPublicKey({ key: { kty: "OKP", crv: "Ed25519", x: b64u(pk) }, format: "jwk" });
      bits = 256;
    } else if (type === "ssh-rsa") {
      const e = r.mpint("exponent");
      const n = r.mpint("modulus");
      r.done();
      bits = bitLength(n);
      if (bits < MIN_RSA_BITS)
        return { ok: false, reason: `RSA keys must have at least ${MIN_RSA_BITS} bits; this one has ${bits}. Generate a new one (ssh-keygen -t ed25519).` };
      if (bits > 16384) return { ok: false, reason: `RSA keys larger than 16384 bits are not accepted; this one has ${bits}.` };
      if ((n[n.length - 1]! & 1) === 0) return { ok: false, reason: "The RSA modulus is even, so this is not a real RSA key." };
      if (bitLength(e) < 2 || (e[e.length - 1]! & 1) === 0) return { ok: false, reason: "The RSA public exponent is invalid." };
      createPublicKey({ key: { kty: "RSA", n: b64u(n), e: b64u(e) }, format: "jwk" });
    } else {
      const spec = ECDSA[type]!;
      const curve = r.string("curve name").toString("latin1");
      if (curve !== spec.curve) return { ok: false, reason: `An ${type} key must name the curve ${spec.curve}; this one names "${curve.slice(0, 40)}".` };
      const q = r.string("public point");
      r.done();
      if (q.length !== 1 + 2 * spec.coord || q[0] !== 0x04)
        return { ok: false, reason: `The ${spec.curve} public point must be ${1 + 2 * spec.coord} bytes, uncompressed; this one is ${q.length} bytes.` };
      try {
        createPublicKey({
          key: { kty: "EC", crv: spec.jwkCrv, x: b64u(q.subarray(1, 1 + spec.coord)), y: b64u(q.subarray(1 + spec.coord)) },
          format: "jwk",
        });
      } catch {
        return { ok: false, reason: `The public point is not on the ${spec.curve} curve.` };
      }
      bits = spec.bits;
    }
    return { ok: true, key: { type: type as SshKeyType, bits, publicKey: `${type} ${blob.toString("base64")}`, comment, fingerprint: fingerprintOf(blob) } };
  } catch (e) {
    return { ok: false, reason: `Malformed ${type} key: ${(e as Error).message}.` };
  }
}
