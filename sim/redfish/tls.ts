// Self-signed certificate for the simulator's https/wss mode, made with the openssl CLI (Node has no
// X.509 generator). A driver's "verify certificate" option fails against it unless it trusts this PEM.

import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

export interface SelfSigned {
  key: string;
  cert: string;
}

/** A P-256 key and a 30-day self-signed certificate valid for localhost and the given IP addresses. */
export async function selfSignedCert(ips: string[]): Promise<SelfSigned> {
  const dir = await mkdtemp(join(tmpdir(), "anvil-redfish-tls-"));
  try {
    const san = ["DNS:localhost", ...[...new Set(["127.0.0.1", ...ips])].map((ip) => `IP:${ip}`)].join(",");
    const keyPath = join(dir, "key.pem");
    const certPath = join(dir, "cert.pem");
    await run("openssl", [
      "req",
      "-x509",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:prime256v1",
      "-nodes",
      "-keyout",
      keyPath,
      "-out",
      certPath,
      "-days",
      "30",
      "-subj",
      "/O=Anvil lab/CN=Anvil Redfish simulator",
      "-addext",
      `subjectAltName=${san}`,
    ]);
    return { key: await readFile(keyPath, "utf8"), cert: await readFile(certPath, "utf8") };
  } catch (err) {
    throw new Error(`redfish-sim: could not generate a TLS certificate with openssl (${(err as Error).message}); install openssl or start without tls`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
