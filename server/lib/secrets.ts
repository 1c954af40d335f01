// The server's secret key and the sealing of secrets at rest (BMC passwords, agent tokens).
// The key comes from ANVIL_SECRET_KEY (base64 or hex, 32 bytes) or a generated key file in the data folder
// (mode 0600), so every replica sharing one database must be given the same ANVIL_SECRET_KEY.
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";

const g = globalThis as unknown as { __anvilKey?: Buffer };

export function dataDir(): string {
  return path.resolve(process.env.ANVIL_DATA_DIR ?? ".data");
}

function parseKey(raw: string): Buffer {
  const t = raw.trim();
  const buf = /^[0-9a-f]{64}$/i.test(t) ? Buffer.from(t, "hex") : Buffer.from(t, "base64");
  if (buf.length !== 32) throw new Error("ANVIL_SECRET_KEY must be 32 bytes, given as 64 hex digits or base64.");
  return buf;
}

export function secretKey(): Buffer {
  if (g.__anvilKey) return g.__anvilKey;
  if (process.env.ANVIL_SECRET_KEY) {
    g.__anvilKey = parseKey(process.env.ANVIL_SECRET_KEY);
    return g.__anvilKey;
  }
  const file = path.join(dataDir(), "secret.key");
  if (!fs.existsSync(file)) {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    try {
      fs.writeFileSync(file, crypto.randomBytes(32).toString("hex"), { mode: 0o600, flag: "wx" });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
    }
  }
  g.__anvilKey = parseKey(fs.readFileSync(file, "utf8"));
  return g.__anvilKey;
}

/** A purpose-bound subkey, so the auth library and the credential sealer never share key material. */
export function derivedKey(purpose: string): Buffer {
  return Buffer.from(crypto.hkdfSync("sha256", secretKey(), Buffer.alloc(0), `anvil:${purpose}`, 32));
}

/** AES-256-GCM: "v1.<iv>.<tag>.<ciphertext>" in base64url. */
export function seal(plaintext: string): string {
  const key = derivedKey("seal");
  const iv = crypto.randomBytes(12);
  const c = crypto.createCipheriv("aes-256-gcm", key, iv);
  const ct = Buffer.concat([c.update(plaintext, "utf8"), c.final()]);
  return ["v1", iv.toString("base64url"), c.getAuthTag().toString("base64url"), ct.toString("base64url")].join(".");
}

export function unseal(sealed: string): string {
  const [v, iv, tag, ct] = sealed.split(".");
  if (v !== "v1" || !iv || !tag || ct === undefined) throw new Error("Sealed secret has an unknown format.");
  const d = crypto.createDecipheriv("aes-256-gcm", derivedKey("seal"), Buffer.from(iv, "base64url"));
  d.setAuthTag(Buffer.from(tag, "base64url"));
  return Buffer.concat([d.update(Buffer.from(ct, "base64url")), d.final()]).toString("utf8");
}

/** A short, stable fingerprint a person can compare ("set" + fingerprint is all a client ever sees). */
export function fingerprint(secret: string): string {
  return crypto.createHmac("sha256", derivedKey("fingerprint")).update(secret).digest("hex").slice(0, 12);
}
