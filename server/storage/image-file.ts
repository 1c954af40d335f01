// Validates an uploaded disk image by its bytes, never by its name: qcow2 starts with "QFI\xfb" and carries the
// virtual disk size in its header (offset 24, big-endian u64); anything else is accepted as raw only when the
// uploader said "raw" and the length is whole 512-byte sectors. Other well-known formats (VMDK, VHD/VHDX, VDI,
// ISO) are refused with the conversion to use, since a DPU boots only raw or qcow2 clones.
import { open } from "node:fs/promises";
import { GiB } from "@/db/validation/storage";

export const QCOW2_MAGIC = Buffer.from([0x51, 0x46, 0x49, 0xfb]);
/** Largest virtual size accepted (64 TiB, the largest volume Anvil creates). */
export const MAX_VIRTUAL_BYTES = 65536 * GiB;

export class ImageFileError extends Error {}

export interface ImageFileInfo {
  format: "raw" | "qcow2";
  /** Bytes in the file (what gets written to storage). */
  fileBytes: number;
  /** The disk size the image describes (qcow2 header; the file length for raw). */
  virtualBytes: number;
}

const OTHER_FORMATS: { name: string; at: number; magic: Buffer }[] = [
  { name: "VMDK", at: 0, magic: Buffer.from("KDMV") },
  { name: "VHDX", at: 0, magic: Buffer.from("vhdxfile") },
  { name: "VHD", at: 0, magic: Buffer.from("conectix") },
  { name: "VDI", at: 64, magic: Buffer.from([0x7f, 0x10, 0xda, 0xbe]) },
];

/** Inspects the first bytes of a file; `declared` is the format the uploader chose (or undefined = detect). */
export function inspectImageHeader(head: Buffer, fileBytes: number, declared?: "raw" | "qcow2"): ImageFileInfo {
  if (fileBytes === 0) throw new ImageFileError("The file is empty.");
  if (head.subarray(0, 4).equals(QCOW2_MAGIC)) {
    if (declared === "raw") throw new ImageFileError("The file is a qcow2 image, not raw; choose qcow2 (or convert it with qemu-img convert -O raw).");
    if (head.length < 32) throw new ImageFileError("The qcow2 header is truncated (the file is shorter than 32 bytes).");
    const version = head.readUInt32BE(4);
    if (version !== 2 && version !== 3) throw new ImageFileError(`Unsupported qcow2 version ${version} (expected 2 or 3).`);
    const virtualBytes = Number(head.readBigUInt64BE(24));
    if (!Number.isSafeInteger(virtualBytes) || virtualBytes <= 0) throw new ImageFileError("The qcow2 header gives no disk size.");
    if (virtualBytes > MAX_VIRTUAL_BYTES)
      throw new ImageFileError(`The image describes a ${Math.ceil(virtualBytes / GiB)} GiB disk; the largest volume is 65536 GiB.`);
    return { format: "qcow2", fileBytes, virtualBytes };
  }
  for (const f of OTHER_FORMATS) {
    if (head.length >= f.at + f.magic.length && head.subarray(f.at, f.at + f.magic.length).equals(f.magic))
      throw new ImageFileError(`The file is a ${f.name} image; convert it to raw or qcow2 first (qemu-img convert -O qcow2 …).`);
  }
  if (declared === "qcow2") throw new ImageFileError('The file is not a qcow2 image (it does not start with "QFI\\xfb"); choose raw if it is a raw disk.');
  if (declared !== "raw") throw new ImageFileError("The file is not a qcow2 image; if it is a raw disk image, choose the raw format.");
  if (fileBytes % 512 !== 0) throw new ImageFileError(`A raw disk image is whole 512-byte sectors; this file is ${fileBytes} bytes.`);
  if (fileBytes > MAX_VIRTUAL_BYTES) throw new ImageFileError("The image is larger than the largest volume (65536 GiB).");
  return { format: "raw", fileBytes, virtualBytes: fileBytes };
}

export async function inspectImageFile(path: string, declared?: "raw" | "qcow2"): Promise<ImageFileInfo> {
  const fh = await open(path, "r");
  try {
    const { size } = await fh.stat();
    const head = Buffer.alloc(Math.min(512, size));
    if (head.length > 0) await fh.read(head, 0, head.length, 0);
    return inspectImageHeader(head, size, declared);
  } finally {
    await fh.close();
  }
}

/** A minimal, valid-looking qcow2 header (v3) describing a disk of `virtualBytes`, padded with `dataBytes` bytes (tests, E2E, bench). */
export function makeQcow2(virtualBytes: number, dataBytes = 0): Buffer {
  const header = Buffer.alloc(104);
  QCOW2_MAGIC.copy(header, 0);
  header.writeUInt32BE(3, 4); // version
  header.writeUInt32BE(16, 20); // cluster_bits (64 KiB clusters)
  header.writeBigUInt64BE(BigInt(virtualBytes), 24);
  header.writeUInt32BE(104, 100); // header_length
  return Buffer.concat([header, Buffer.alloc(dataBytes, 0xab)]);
}
