// Importing an image from a URL, against a real HTTP server on 127.0.0.1 and the lab storage service: the bytes
// are written to the image's volume and read back identical, the checksum is stored and returned, a redirect is
// followed; 404, a file too large (declared or streamed), a file that is not a disk image, a checksum mismatch,
// a scheme other than http(s), an unreachable host and a non-public address are refused with what to fix, and
// nothing is created.
import { createHash, randomBytes } from "node:crypto";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { auditEvents, images } from "@/db/schema";
import { uniq } from "@/test/db";
import { callerAs, failure, fieldOf, useFixtures, useTestStorage } from "@/test/fixtures";
import { type ImageServer, startImageServer } from "@/test/image-server";
import { getStorage } from "./backend";

const fx = useFixtures();
useTestStorage();
let web: ImageServer;
beforeAll(async () => {
  web = await startImageServer();
});
afterAll(() => web.close());

const sha = (b: Buffer) => createHash("sha256").update(b).digest("hex");
const meta = () => ({ name: uniq("imp"), os: "debian", version: "12" });

async function firstBytes(volumeId: string, n: number): Promise<Buffer> {
  const parts: Buffer[] = [];
  let got = 0;
  const stream = await getStorage().readVolumeData(volumeId);
  for await (const c of stream) {
    parts.push(c as Buffer);
    got += (c as Buffer).length;
    if (got >= n) break;
  }
  stream.destroy();
  return Buffer.concat(parts).subarray(0, n);
}

describe("image import from a URL", () => {
  it("downloads the file, writes its bytes to the image's volume and stores its SHA-256 (following a redirect)", async () => {
    const disk = randomBytes(64 * 1024);
    web.serve("/debian.raw", disk);
    web.serve("/latest", { redirect: "/debian.raw" });
    const op = callerAs(fx, "operatorAdmin");
    const img = await op.images.importFromUrl({ ...meta(), url: `${web.url}/latest?token=secret`, format: "raw", sha256: sha(disk) });
    expect(img).toMatchObject({ state: "available", format: "raw", source: "upload", checksumSha256: sha(disk), sizeBytes: 1024 ** 3 });
    expect(sha(await firstBytes(img.storageVolumeId!, disk.length))).toBe(sha(disk));
    expect((await op.images.get({ id: img.id })).checksumSha256).toBe(sha(disk));
    // The audit keeps the address without its query string.
    const [entry] = await fx.db.select().from(auditEvents).where(eq(auditEvents.targetId, img.id));
    expect(entry).toMatchObject({ action: "image.import" });
    expect(JSON.stringify(entry!.details)).toContain(`${web.url}/latest`);
    expect(JSON.stringify(entry!.details)).not.toContain("secret");
  });

  it("refuses with what to fix, and creates nothing", async () => {
    const op = callerAs(fx, "operatorAdmin");
    const volumesBefore = (await getStorage().listVolumes({ limit: 1000 })).items.length;
    const names: string[] = [];
    const refuse = async (input: Record<string, unknown>) => {
      const m = meta();
      names.push(m.name);
      return failure(op.images.importFromUrl({ ...m, ...input } as never));
    };

    const missing = await refuse({ url: `${web.url}/nope.img`, format: "raw" });
    expect(fieldOf(missing)).toBe("url");
    expect(missing.message).toMatch(/answered 404 Not Found/);

    process.env.ANVIL_IMAGE_MAX_BYTES = "8192";
    try {
      web.serve("/big.raw", Buffer.alloc(16384, 1));
      expect((await refuse({ url: `${web.url}/big.raw`, format: "raw" })).message).toMatch(/16384 bytes; the limit is 8192 bytes/);
      web.serve("/sneaky.raw", { lie: 0, bytes: Buffer.alloc(16384, 1) });
      expect((await refuse({ url: `${web.url}/sneaky.raw`, format: "raw" })).message).toMatch(/larger than the limit of 8192 bytes/);
    } finally {
      delete process.env.ANVIL_IMAGE_MAX_BYTES;
    }

    web.serve("/page.html", Buffer.from("<html><body>Not an image</body></html>"));
    const html = await refuse({ url: `${web.url}/page.html` });
    expect(fieldOf(html)).toBe("url");
    expect(html.message).toMatch(/not a qcow2 image; if it is a raw disk image, choose the raw format/);

    web.serve("/disk.raw", Buffer.alloc(4096, 3));
    const sum = await refuse({ url: `${web.url}/disk.raw`, format: "raw", sha256: "a".repeat(64) });
    expect(fieldOf(sum)).toBe("sha256");
    expect(sum.message).toMatch(/not the a{64} you expected; nothing was stored/);

    const ftp = await refuse({ url: "ftp://127.0.0.1/disk.raw" });
    expect(fieldOf(ftp)).toBe("url");
    expect(ftp.message).toMatch(/http:\/\/ or https:\/\//);
    web.serve("/to-file", { redirect: "file:///etc/passwd" });
    expect((await refuse({ url: `${web.url}/to-file` })).message).toMatch(/Only http:\/\/ and https:\/\/ URLs can be imported/);

    const closed = await refuse({ url: "http://127.0.0.1:9/disk.raw" });
    expect(closed.message).toMatch(/Could not download from 127\.0\.0\.1:9: the host refused the connection/);

    const allow = process.env.ANVIL_IMAGE_IMPORT_ALLOW;
    delete process.env.ANVIL_IMAGE_IMPORT_ALLOW;
    try {
      const local = await refuse({ url: `${web.url}/disk.raw`, format: "raw" });
      expect(local.message).toMatch(/127\.0\.0\.1 is a loopback address; images are imported from public addresses only/);
    } finally {
      process.env.ANVIL_IMAGE_IMPORT_ALLOW = allow;
    }

    for (const name of names) expect(await fx.db.select().from(images).where(eq(images.name, name))).toEqual([]);
    expect((await getStorage().listVolumes({ limit: 1000 })).items.length).toBe(volumesBefore);
  });

  it("lets only operator admins import", async () => {
    const input = { ...meta(), url: `${web.url}/disk.raw`, format: "raw" as const };
    expect((await failure(callerAs(fx, "operatorViewer").images.importFromUrl(input))).code).toBe("FORBIDDEN");
  });
});
