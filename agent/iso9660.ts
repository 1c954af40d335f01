// Builds a NoCloud seed image (ISO9660 + Joliet, volume id "cidata") in memory, for the sim backend and for
// GET /v1/cidata/:name/image without spawning genisoimage 10,000 times in the lab. The layout is the minimal
// one ECMA-119 allows for a flat root directory: primary descriptor, Joliet supplementary descriptor (UCS-2
// names, so "user-data" keeps its dash and case), terminator, path tables, two root directories, file data.
// The linux backend uses the real genisoimage; tests check this writer with isoinfo and blkid.

const SECTOR = 2048;

export interface IsoFile {
  name: string;
  data: Buffer;
}

function both16(buf: Buffer, off: number, v: number): void {
  buf.writeUInt16LE(v, off);
  buf.writeUInt16BE(v, off + 2);
}
function both32(buf: Buffer, off: number, v: number): void {
  buf.writeUInt32LE(v, off);
  buf.writeUInt32BE(v, off + 4);
}

/** ECMA-119 8.4.26.1 dec-datetime: 16 ASCII digits + timezone offset byte (UTC). */
function decDate(d: Date): Buffer {
  const p = (n: number, w: number) => String(n).padStart(w, "0");
  const s = `${p(d.getUTCFullYear(), 4)}${p(d.getUTCMonth() + 1, 2)}${p(d.getUTCDate(), 2)}${p(d.getUTCHours(), 2)}${p(d.getUTCMinutes(), 2)}${p(d.getUTCSeconds(), 2)}00`;
  return Buffer.concat([Buffer.from(s, "ascii"), Buffer.from([0])]);
}

/** ECMA-119 9.1.5 7-byte recording date. */
function dirDate(d: Date): Buffer {
  return Buffer.from([d.getUTCFullYear() - 1900, d.getUTCMonth() + 1, d.getUTCDate(), d.getUTCHours(), d.getUTCMinutes(), d.getUTCSeconds(), 0]);
}

function ucs2be(s: string): Buffer {
  const b = Buffer.alloc(s.length * 2);
  for (let i = 0; i < s.length; i++) b.writeUInt16BE(s.charCodeAt(i), i * 2);
  return b;
}

function dirRecord(id: Buffer, extent: number, size: number, isDir: boolean, date: Date): Buffer {
  const len = 33 + id.length + (id.length % 2 === 0 ? 1 : 0);
  const r = Buffer.alloc(len);
  r[0] = len;
  both32(r, 2, extent);
  both32(r, 10, size);
  dirDate(date).copy(r, 18);
  r[25] = isDir ? 2 : 0;
  both16(r, 28, 1);
  r[32] = id.length;
  id.copy(r, 33);
  return r;
}

/** ISO9660 level-1 name for the primary tree: upper-case d-characters, 8.3, version ;1. */
function primaryName(name: string, taken: Set<string>): string {
  const [stem, ext = ""] = name
    .toUpperCase()
    .replace(/[^A-Z0-9_.]/g, "_")
    .split(/\.(?=[^.]*$)/);
  let base = stem.replace(/\./g, "_").slice(0, 8);
  let n = 1;
  while (taken.has(`${base}.${ext.slice(0, 3)}`)) base = `${stem.slice(0, 8 - String(n).length)}${n++}`;
  const full = `${base}.${ext.slice(0, 3)}`;
  taken.add(full);
  return `${full};1`;
}

function textField(buf: Buffer, off: number, len: number, s: string, joliet: boolean): void {
  if (joliet) {
    for (let i = 0; i < len; i += 2) buf.writeUInt16BE(0x20, off + i);
    ucs2be(s.slice(0, len / 2)).copy(buf, off);
  } else {
    buf.fill(0x20, off, off + len);
    buf.write(s.slice(0, len), off, "ascii");
  }
}

/**
 * Returns the bytes of an ISO9660 image with a Joliet tree holding `files` in its root directory.
 * `date` is stamped everywhere so the same input gives byte-identical output (idempotent GETs).
 */
export function buildIso(volumeId: string, files: IsoFile[], date: Date): Buffer {
  for (const f of files) {
    if (!/^[A-Za-z0-9._-]{1,64}$/.test(f.name)) throw new Error(`invalid ISO file name ${f.name}`);
  }
  const pathTableSector = 19; // L, M (primary) at 19, 20; L, M (Joliet) at 21, 22
  const primaryRoot = 23;
  const jolietRoot = 24;
  let next = 25;
  const placed = files.map((f) => {
    const extent = next;
    next += Math.ceil(f.data.length / SECTOR);
    return { ...f, extent };
  });
  const totalSectors = next;
  const img = Buffer.alloc(totalSectors * SECTOR);

  // Root directories: ".", "..", then entries sorted by their identifier bytes (ECMA-119 9.3).
  const taken = new Set<string>();
  const primaryEntries = placed.map((f) => ({ id: Buffer.from(primaryName(f.name, taken), "ascii"), f })).sort((a, b) => Buffer.compare(a.id, b.id));
  const jolietEntries = placed.map((f) => ({ id: ucs2be(f.name), f })).sort((a, b) => Buffer.compare(a.id, b.id));
  const writeDir = (sector: number, entries: { id: Buffer; f: (typeof placed)[number] }[]) => {
    const recs = [dirRecord(Buffer.from([0]), sector, SECTOR, true, date), dirRecord(Buffer.from([1]), sector, SECTOR, true, date)];
    for (const e of entries) recs.push(dirRecord(e.id, e.f.extent, e.f.data.length, false, date));
    const dir = Buffer.concat(recs);
    if (dir.length > SECTOR) throw new Error("too many files for a one-sector root directory");
    dir.copy(img, sector * SECTOR);
  };
  writeDir(primaryRoot, primaryEntries);
  writeDir(jolietRoot, jolietEntries);

  // Path tables: a single entry for the root directory (10 bytes).
  const pathTable = (sector: number, rootSector: number, bigEndian: boolean) => {
    const off = sector * SECTOR;
    img[off] = 1;
    if (bigEndian) {
      img.writeUInt32BE(rootSector, off + 2);
      img.writeUInt16BE(1, off + 6);
    } else {
      img.writeUInt32LE(rootSector, off + 2);
      img.writeUInt16LE(1, off + 6);
    }
  };
  pathTable(pathTableSector, primaryRoot, false);
  pathTable(pathTableSector + 1, primaryRoot, true);
  pathTable(pathTableSector + 2, jolietRoot, false);
  pathTable(pathTableSector + 3, jolietRoot, true);

  const descriptor = (sector: number, joliet: boolean) => {
    const d = img.subarray(sector * SECTOR, (sector + 1) * SECTOR);
    d[0] = joliet ? 2 : 1;
    d.write("CD001", 1, "ascii");
    d[6] = 1;
    textField(d, 8, 32, "LINUX", joliet);
    textField(d, 40, 32, volumeId, joliet);
    both32(d, 80, totalSectors);
    if (joliet) d.write("%/E", 88, "ascii"); // UCS-2 level 3
    both16(d, 120, 1);
    both16(d, 124, 1);
    both16(d, 128, SECTOR);
    both32(d, 132, 10);
    const lSector = joliet ? pathTableSector + 2 : pathTableSector;
    d.writeUInt32LE(lSector, 140);
    d.writeUInt32BE(lSector + 1, 148);
    dirRecord(Buffer.from([0]), joliet ? jolietRoot : primaryRoot, SECTOR, true, date).copy(d, 156);
    for (const [off, len] of [
      [190, 128],
      [318, 128],
      [446, 128],
      [574, 128],
      [702, 37],
      [739, 37],
      [776, 37],
    ]) {
      textField(d, off, len, off === 574 ? "ANVIL DPU AGENT" : "", joliet);
    }
    decDate(date).copy(d, 813);
    decDate(date).copy(d, 830);
    Buffer.from("0000000000000000\0", "ascii").copy(d, 847);
    decDate(date).copy(d, 864);
    d[881] = 1;
  };
  descriptor(16, false);
  descriptor(17, true);
  const term = img.subarray(18 * SECTOR);
  term[0] = 255;
  term.write("CD001", 1, "ascii");
  term[6] = 1;

  for (const f of placed) f.data.copy(img, f.extent * SECTOR);
  return img;
}
