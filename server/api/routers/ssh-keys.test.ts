// SSH keys router against a real Postgres: add (validated, fingerprinted), duplicates and malformed keys as field
// errors naming the problem, each user sees and deletes only their own keys, audit rows.
import { generateKeyPairSync } from "node:crypto";
import { eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import * as s from "@/db/schema";
import { callerAs, failure, fieldOf, useFixtures } from "@/test/fixtures";

const fx = useFixtures();

function sshString(b: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(b.length);
  return Buffer.concat([len, b]);
}

/** An ECDSA P-256 key in OpenSSH form, built from node:crypto's JWK. */
function ecdsaKey(comment = "me@laptop"): string {
  const jwk = generateKeyPairSync("ec", { namedCurve: "P-256" }).publicKey.export({ format: "jwk" });
  const q = Buffer.concat([Buffer.from([4]), Buffer.from(jwk.x!, "base64url"), Buffer.from(jwk.y!, "base64url")]);
  const blob = Buffer.concat([sshString(Buffer.from("ecdsa-sha2-nistp256")), sshString(Buffer.from("nistp256")), sshString(q)]);
  return `ecdsa-sha2-nistp256 ${blob.toString("base64")} ${comment}`;
}

describe("SSH keys", () => {
  it("adds a valid key with its fingerprint, refuses duplicates, deletes it; all audited", async () => {
    const me = callerAs(fx, "tenantMember");
    const pub = ecdsaKey();
    const k = await me.sshKeys.add({ name: "laptop", publicKey: `  ${pub}\n` });
    expect(k).toMatchObject({ name: "laptop", keyType: "ecdsa-sha2-nistp256", bits: 256, comment: "me@laptop" });
    expect(k.fingerprint).toMatch(/^SHA256:[A-Za-z0-9+/]{43}$/);
    const sameKey = await failure(me.sshKeys.add({ name: "again", publicKey: pub.replace("me@laptop", "other comment") }));
    expect([sameKey.code, fieldOf(sameKey), sameKey.message]).toEqual(["CONFLICT", "publicKey", "You have already added this key."]);
    const sameName = await failure(me.sshKeys.add({ name: "LAPTOP", publicKey: ecdsaKey() }));
    expect([sameName.code, fieldOf(sameName)]).toEqual(["CONFLICT", "name"]);
    // Another user may add the same public key (e.g. a shared deploy key) under their own account.
    await callerAs(fx, "tenantAdmin").sshKeys.add({ name: "shared", publicKey: pub });
    expect((await me.sshKeys.list({})).items.map((i) => i.id)).toEqual([k.id]);
    await me.sshKeys.delete({ id: k.id });
    expect((await me.sshKeys.list({})).items).toEqual([]);
    const actions = (await fx.db.select().from(s.auditEvents).where(eq(s.auditEvents.targetId, k.id))).map((a) => a.action).sort();
    expect(actions).toEqual(["ssh_key.add", "ssh_key.delete"]);
  });

  it("refuses malformed keys with a field error naming what is wrong", async () => {
    const me = callerAs(fx, "tenantMember");
    const cases: [string, RegExp][] = [
      ["ssh-dss AAAAB3NzaC1kc3M= old", /Unsupported key type "ssh-dss"/],
      ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIB", /not valid base64/],
      [`ssh-ed25519 ${sshString(Buffer.from("ssh-ed25519")).toString("base64")}`, /ends before its public key/],
      ["-----BEGIN OPENSSH PRIVATE KEY-----", /private key/],
    ];
    for (const [publicKey, reason] of cases) {
      const e = await failure(me.sshKeys.add({ name: "bad", publicKey }));
      expect([e.code, fieldOf(e)], publicKey).toEqual(["BAD_REQUEST", "publicKey"]);
      expect(e.message).toMatch(reason);
    }
    expect((await failure(me.sshKeys.add({ name: "", publicKey: ecdsaKey() }))).code).toBe("BAD_REQUEST");
  });

  it("does not let one user delete another's key", async () => {
    const k = await callerAs(fx, "tenantAdmin").sshKeys.add({ name: "admin-key", publicKey: ecdsaKey() });
    expect((await failure(callerAs(fx, "otherTenantMember").sshKeys.delete({ id: k.id }))).code).toBe("NOT_FOUND");
    expect(await fx.db.select().from(s.sshKeys).where(eq(s.sshKeys.id, k.id))).toHaveLength(1);
  });
});
