// The real lab's guest image: Debian 12 built from Debian packages (mmdebstrap), with cloud-init (NoCloud), openssh
// and a BIOS bootloader, so a lab host boots it through its firmware (SeaBIOS → GRUB in the MBR gap → kernel) from
// whatever disk its DPU presents, like a real server: no -kernel. Built once per recipe and cached under
// ~/.cache/anvil/guest/<recipe hash>/ (finished builds are renamed into place, so a half-built image is never used).
// The disk is assembled without loop mounts: `mkfs.ext4 -d` fills the partition from the rootfs at a 1 MiB offset,
// sfdisk writes an MBR with one bootable partition, GRUB's boot.img goes into the MBR's code area and a core.img
// made by grub-mkimage (with an early config that finds the root by filesystem UUID) into the gap before the partition.
// CLI: `npx tsx sim/real/guest-image.ts [--rebuild]` prints the image path.
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { isEntryScript } from "../entry";

const run = promisify(execFile);

/** Everything that decides the image's bytes; its hash names the cache entry, so changing any of it rebuilds. */
export const GUEST_RECIPE = {
  version: 2,
  suite: "bookworm",
  variant: "minbase",
  packages: [
    "systemd-sysv",
    "udev",
    "dbus",
    "linux-image-cloud-amd64",
    "cloud-init",
    "cloud-guest-utils", // growpart: cloud-init grows the root partition to the volume's size on first boot
    "openssh-server",
    "ifupdown",
    "resolvconf", // applies the network-config's name servers (ifupdown's dns-nameservers) to /etc/resolv.conf
    "netbase",
    "iproute2",
    "isc-dhcp-client",
    "e2fsprogs",
    "iputils-ping",
    "procps",
    "kmod",
    "sudo",
    "locales",
    "grub-pc-bin", // GRUB's BIOS modules, boot.img and grub-mkimage (run inside the rootfs: the host needs no GRUB)
    "grub-common",
  ],
  diskBytes: 2 * 1024 ** 3,
  partitionOffsetBytes: 1024 ** 2,
  grubModules: ["biosdisk", "part_msdos", "ext2", "search", "search_fs_uuid", "normal", "linux", "serial", "terminal", "echo", "configfile", "test"],
  kernelArgs: "ro console=ttyS0,115200",
  // ed25519 host keys only: generating RSA and ECDSA keys at first boot takes many seconds on TCG
  cloudCfg: "datasource_list: [ NoCloud, None ]\nlocale: C.UTF-8\nssh_genkeytypes: [ ed25519 ]\n",
} as const;

export interface GuestImage {
  /** The raw disk (MBR, one ext4 partition, GRUB for BIOS). */
  path: string;
  /** Virtual size in bytes (the file is sparse). */
  sizeBytes: number;
  /** Bytes the sparse file really uses on disk. */
  allocatedBytes: number;
  kernel: string;
  rootUuid: string;
  recipeHash: string;
  /** Seconds the build took (when it was built, possibly by an earlier process). */
  buildSeconds: number;
  /** True when this call found it in the cache. */
  cached: boolean;
}

interface ImageMeta {
  kernel: string;
  rootUuid: string;
  sizeBytes: number;
  buildSeconds: number;
  builtAt: string;
}

export function recipeHash(): string {
  return createHash("sha256").update(JSON.stringify(GUEST_RECIPE)).digest("hex").slice(0, 16);
}

/** The cache root: $ANVIL_GUEST_CACHE, else $XDG_CACHE_HOME/anvil/guest, else ~/.cache/anvil/guest. */
export function guestCacheDir(): string {
  if (process.env.ANVIL_GUEST_CACHE) return process.env.ANVIL_GUEST_CACHE;
  return join(process.env.XDG_CACHE_HOME || join(homedir(), ".cache"), "anvil", "guest");
}

/** A UUID derived from the recipe hash, so the same recipe always gives the same filesystem UUID. */
function uuidFromHash(hash: string): string {
  const h = createHash("sha256").update(`root-fs:${hash}`).digest("hex");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

function imageAt(dir: string, hash: string, cached: boolean): GuestImage {
  const meta = JSON.parse(readFileSync(join(dir, "image.json"), "utf8")) as ImageMeta;
  const path = join(dir, "disk.raw");
  const st = statSync(path);
  return {
    path,
    sizeBytes: st.size,
    allocatedBytes: st.blocks * 512,
    kernel: meta.kernel,
    rootUuid: meta.rootUuid,
    recipeHash: hash,
    buildSeconds: meta.buildSeconds,
    cached,
  };
}

async function sh(cmd: string, args: string[], what: string): Promise<string> {
  try {
    const { stdout } = await run(cmd, args, { maxBuffer: 64 * 1024 * 1024 });
    return stdout;
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { stderr?: string };
    if (e.code === "ENOENT") throw new Error(`guest image: ${cmd} is not installed (needed to ${what}; see scripts/system-deps.sh)`);
    throw new Error(`guest image: ${what} failed (${cmd}): ${(e.stderr ?? e.message).trim().slice(-2000)}`);
  }
}

/**
 * Returns the cached guest image, building it first when missing (or when `rebuild`). Needs root (mmdebstrap, chroot)
 * and mmdebstrap, sfdisk and mkfs.ext4 on the host. Takes minutes the first time; instant afterwards.
 */
export async function ensureGuestImage(opts: { rebuild?: boolean; cacheDir?: string; log?: (line: string) => void } = {}): Promise<GuestImage> {
  const hash = recipeHash();
  const root = opts.cacheDir ?? guestCacheDir();
  const dir = join(root, hash);
  if (!opts.rebuild && existsSync(join(dir, "image.json"))) return imageAt(dir, hash, true);
  if (process.getuid?.() !== 0) throw new Error("guest image: building it needs root (mmdebstrap and chroot); run as root or use a machine that has it cached");
  const log = opts.log ?? (() => {});
  const t0 = Date.now();
  mkdirSync(root, { recursive: true });
  const work = join(root, `${hash}.tmp-${process.pid}`);
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work);
  const rootfs = join(work, "rootfs");
  const r = GUEST_RECIPE;
  const uuid = uuidFromHash(hash);
  try {
    log(`guest image: mmdebstrap ${r.suite} (${r.packages.length} packages) into ${rootfs}`);
    await sh(
      "mmdebstrap",
      [
        "--quiet",
        `--variant=${r.variant}`,
        `--include=${r.packages.join(",")}`,
        `--customize-hook=echo "UUID=${uuid} / ext4 defaults,noatime 0 1" > "$1/etc/fstab"`,
        '--customize-hook=echo unset-host > "$1/etc/hostname"',
        // mmdebstrap copies the build host's resolv.conf in; a guest must not query the builder's resolver (with a
        // gateway that answers ARP, each lookup would wait out its timeout): resolvconf fills it from the network-config
        '--customize-hook=rm -f "$1/etc/resolv.conf" && ln -s ../run/resolvconf/resolv.conf "$1/etc/resolv.conf"',
        '--customize-hook=echo LANG=C.UTF-8 > "$1/etc/default/locale"',
        `--customize-hook=printf '${r.cloudCfg.replace(/\n/g, "\\n")}' > "$1/etc/cloud/cloud.cfg.d/90-anvil-lab.cfg"`,
        r.suite,
        rootfs,
      ],
      "build the Debian rootfs",
    );
    const boot = readdirSync(join(rootfs, "boot"));
    const kernel = boot.find((f) => f.startsWith("vmlinuz-"));
    const initrd = boot.find((f) => f.startsWith("initrd.img-"));
    if (!kernel || !initrd) throw new Error(`guest image: no kernel/initrd in the rootfs's /boot (found: ${boot.join(", ")})`);

    log("guest image: GRUB config and core.img");
    mkdirSync(join(rootfs, "boot/grub"), { recursive: true });
    writeFileSync(
      join(rootfs, "boot/grub/grub.cfg"),
      [
        "serial --unit=0 --speed=115200",
        "terminal_input serial console",
        "terminal_output serial console",
        "set timeout=1",
        "set default=0",
        "menuentry 'Debian GNU/Linux 12 (Anvil lab guest)' {",
        `  search --no-floppy --fs-uuid --set=root ${uuid}`,
        `  echo 'Loading Linux ${kernel} ...'`,
        `  linux /boot/${kernel} root=UUID=${uuid} ${r.kernelArgs}`,
        `  initrd /boot/${initrd}`,
        "}",
        "",
      ].join("\n"),
    );
    writeFileSync(join(rootfs, "tmp/early.cfg"), `search.fs_uuid ${uuid} root\nset prefix=($root)/boot/grub\n`);
    await sh(
      "chroot",
      [rootfs, "grub-mkimage", "-O", "i386-pc", "-o", "/tmp/core.img", "-c", "/tmp/early.cfg", "-p", "/boot/grub", ...r.grubModules],
      "make GRUB's core.img",
    );
    const coreImg = readFileSync(join(rootfs, "tmp/core.img"));
    const bootImg = readFileSync(join(rootfs, "usr/lib/grub/i386-pc/boot.img"));
    rmSync(join(rootfs, "tmp/core.img"));
    rmSync(join(rootfs, "tmp/early.cfg"));
    if (coreImg.length > r.partitionOffsetBytes - 512) throw new Error(`guest image: core.img (${coreImg.length} bytes) does not fit before the partition`);

    log("guest image: partitioned disk");
    const disk = join(work, "disk.raw");
    writeFileSync(disk, "");
    await sh("truncate", ["-s", String(r.diskBytes), disk], "size the disk");
    await runWithInput("sfdisk", ["-q", disk], `label: dos\nstart=${r.partitionOffsetBytes / 512}, type=83, bootable\n`, "partition the disk");
    const fsKiB = (r.diskBytes - r.partitionOffsetBytes) / 1024;
    await sh(
      "mkfs.ext4",
      ["-q", "-L", "root", "-U", uuid, "-E", `offset=${r.partitionOffsetBytes}`, "-d", rootfs, disk, `${fsKiB}k`],
      "make the root filesystem",
    );
    // GRUB's boot.img: its first 440 bytes are code (the rest of the sector is the disk signature and partition table
    // sfdisk wrote). Its defaults already point at core.img in sector 1, and core.img's first sector lists the rest
    // from sector 2, so no patching is needed when core.img sits right after the MBR.
    await writeAt(disk, bootImg.subarray(0, 440), 0);
    await writeAt(disk, coreImg, 512);
    rmSync(rootfs, { recursive: true, force: true });

    const buildSeconds = Math.round((Date.now() - t0) / 100) / 10;
    const meta: ImageMeta = { kernel, rootUuid: uuid, sizeBytes: r.diskBytes, buildSeconds, builtAt: new Date().toISOString() };
    writeFileSync(join(work, "image.json"), `${JSON.stringify(meta, null, 2)}\n`);
    if (opts.rebuild) rmSync(dir, { recursive: true, force: true });
    try {
      renameSync(work, dir);
    } catch (err) {
      // another process finished the same recipe first: theirs is as good as ours
      if (!existsSync(join(dir, "image.json"))) throw err;
      rmSync(work, { recursive: true, force: true });
      return imageAt(dir, hash, true);
    }
    log(`guest image: built in ${buildSeconds} s`);
    return imageAt(dir, hash, false);
  } catch (err) {
    rmSync(work, { recursive: true, force: true });
    throw err;
  }
}

async function writeAt(path: string, bytes: Buffer, position: number): Promise<void> {
  const { open } = await import("node:fs/promises");
  const fh = await open(path, "r+");
  try {
    await fh.write(bytes, 0, bytes.length, position);
  } finally {
    await fh.close();
  }
}

function runWithInput(cmd: string, args: string[], input: string, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = execFile(cmd, args, (err, _stdout, stderr) => {
      if (!err) resolve();
      else if ((err as NodeJS.ErrnoException).code === "ENOENT") reject(new Error(`guest image: ${cmd} is not installed (needed to ${what})`));
      else reject(new Error(`guest image: ${what} failed (${cmd}): ${String(stderr).trim()}`));
    });
    child.stdin?.end(input);
  });
}

if (isEntryScript(import.meta.url)) {
  const rebuild = process.argv.includes("--rebuild");
  ensureGuestImage({ rebuild, log: (l) => console.error(l) }).then(
    (img) => {
      console.error(
        `guest image ${img.cached ? "(cached)" : `(built in ${img.buildSeconds} s)`}: ${img.sizeBytes} bytes virtual, ${Math.round(img.allocatedBytes / 1024 ** 2)} MiB allocated, kernel ${img.kernel}`,
      );
      console.log(img.path);
    },
    (err) => {
      console.error((err as Error).message);
      process.exit(1);
    },
  );
}
