// The serial console of each simulated machine: a boot log paced over bootMs, then a login prompt and a
// tiny shell, served as raw terminal bytes over WebSocket (SerialConsole.WebSocket.ConsoleURI).
// Like a real serial line the console is shared: every connected client sees the same output and may type.
// Nothing runs for a BMC nobody watches: the boot log is only paced while a client is connected.

import type { WebSocket } from "ws";
import type { Bmc, Engine } from "./model";
import { firmwareOf } from "./model";

/** The documented break: these 3 bytes (ESC 'B' 'K') send a serial BREAK; see README.md. */
export const BREAK_SEQUENCE = "\x1bBK";

interface Hub {
  clients: Set<WebSocket>;
  /** boot-log player, only while a boot runs and someone watches */
  timer: NodeJS.Timeout | undefined;
  lines: Array<[number, string]> | undefined;
  next: number;
  input: string;
  /** how many bytes of BREAK_SEQUENCE we have seen so far */
  esc: number;
  /** a BREAK arms Linux magic SysRq: the next key is a SysRq command */
  sysrq: boolean;
  /** a backend machine's serial port subscription, while someone watches */
  unsub?: () => void;
}

const CRLF = "\r\n";

export class ConsoleManager {
  private hubs = new Map<Bmc, Hub>();

  constructor(private engine: Engine) {}

  clientCount(bmc: Bmc): number {
    return this.hubs.get(bmc)?.clients.size ?? 0;
  }

  attach(bmc: Bmc, ws: WebSocket): void {
    let hub = this.hubs.get(bmc);
    if (!hub) {
      hub = { clients: new Set(), timer: undefined, lines: undefined, next: 0, input: "", esc: 0, sysrq: false };
      this.hubs.set(bmc, hub);
    }
    hub.clients.add(ws);
    const h = hub;
    if (bmc.backend) {
      this.attachSerial(bmc, h, ws);
      return;
    }
    ws.on("message", (data: Buffer | ArrayBuffer | Buffer[]) => {
      const buf = Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data);
      this.input(bmc, h, buf.toString("latin1"));
    });
    ws.on("close", () => {
      h.clients.delete(ws);
      if (h.clients.size === 0) {
        this.stopPlayer(h);
        this.hubs.delete(bmc);
      }
    });
    ws.on("error", () => ws.terminate());
    // Joining in the middle of a boot: continue the log from where the machine is now.
    if (bmc.power === "On" && bmc.bootPhase === "booting" && !h.timer) this.startPlayer(bmc, h, false);
  }

  /**
   * A real machine's serial port (backend.ts): the viewer first gets the latest screen (scrollback), then live
   * output; every viewer's keystrokes go to the machine. One subscription per machine, only while someone watches.
   */
  private attachSerial(bmc: Bmc, hub: Hub, ws: WebSocket): void {
    const serial = bmc.backend!.serial;
    hub.unsub ??= serial.subscribe((chunk) => {
      for (const c of hub.clients) if (c.readyState === 1) c.send(chunk, { binary: true });
    });
    const back = serial.scrollback();
    if (back.length > 0) ws.send(back, { binary: true });
    ws.on("message", (data: Buffer | ArrayBuffer | Buffer[]) => {
      serial.write(Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data));
    });
    ws.on("close", () => {
      hub.clients.delete(ws);
      if (hub.clients.size === 0) {
        hub.unsub?.();
        hub.unsub = undefined;
        this.hubs.delete(bmc);
      }
    });
    ws.on("error", () => ws.terminate());
  }

  /**
   * Close every console connection of a BMC: the lab admin "drop" sends a close frame (code 4000) so a
   * client can tell it apart; `abrupt` (the BMC became unreachable) just cuts the TCP connection.
   */
  drop(bmc: Bmc, abrupt = false): number {
    const hub = this.hubs.get(bmc);
    if (!hub) return 0;
    const n = hub.clients.size;
    for (const ws of hub.clients) {
      if (abrupt) ws.terminate();
      else ws.close(4000, "console connection dropped by the lab");
    }
    return n;
  }

  closeAll(): void {
    for (const hub of this.hubs.values()) {
      this.stopPlayer(hub);
      hub.unsub?.();
      for (const ws of hub.clients) ws.terminate();
    }
    this.hubs.clear();
  }

  write(bmc: Bmc, text: string): void {
    const hub = this.hubs.get(bmc);
    if (!hub || hub.clients.size === 0) return;
    const buf = Buffer.from(text, "utf8");
    for (const ws of hub.clients) if (ws.readyState === 1) ws.send(buf, { binary: true });
  }

  // ------------------------------------------------------------ engine hooks

  bootStarted(bmc: Bmc): void {
    const hub = this.hubs.get(bmc);
    if (hub) this.startPlayer(bmc, hub, true);
  }

  bootFinished(bmc: Bmc): void {
    const hub = this.hubs.get(bmc);
    if (!hub) return;
    // Timers are coarse: print whatever the player had not reached yet, then the final screen.
    if (hub.lines) for (; hub.next < hub.lines.length; hub.next++) this.write(bmc, hub.lines[hub.next][1] + CRLF);
    this.stopPlayer(hub);
    hub.input = "";
    this.write(bmc, this.finalScreen(bmc));
  }

  poweredOff(bmc: Bmc): void {
    const hub = this.hubs.get(bmc);
    if (!hub) return;
    this.stopPlayer(hub);
    hub.input = "";
    hub.sysrq = false;
  }

  // ------------------------------------------------------------ boot log player

  private startPlayer(bmc: Bmc, hub: Hub, fromStart: boolean): void {
    this.stopPlayer(hub);
    hub.lines = this.bootLog(bmc);
    const elapsed = (Date.now() - bmc.onSince) / Math.max(1, this.engine.config.bootMs);
    hub.next = 0;
    if (!fromStart) while (hub.next < hub.lines.length && hub.lines[hub.next][0] <= elapsed) hub.next++;
    this.schedule(bmc, hub);
  }

  private schedule(bmc: Bmc, hub: Hub): void {
    if (!hub.lines || hub.next >= hub.lines.length) {
      hub.timer = undefined;
      return;
    }
    const due = bmc.onSince + hub.lines[hub.next][0] * this.engine.config.bootMs;
    hub.timer = this.engine.later(Math.max(0, due - Date.now()), () => {
      hub.timer = undefined;
      if (bmc.power !== "On" || bmc.bootPhase !== "booting" || !hub.lines) return;
      const now = Date.now();
      while (hub.next < hub.lines.length && bmc.onSince + hub.lines[hub.next][0] * this.engine.config.bootMs <= now) {
        this.write(bmc, hub.lines[hub.next][1] + CRLF);
        hub.next++;
      }
      this.schedule(bmc, hub);
    });
  }

  private stopPlayer(hub: Hub): void {
    this.engine.cancel(hub.timer);
    hub.timer = undefined;
    hub.lines = undefined;
    hub.next = 0;
  }

  /** The boot log of the current boot: [fraction of bootMs, line]. */
  bootLog(bmc: Bmc): Array<[number, string]> {
    const fh = this.engine.fleetHost(bmc);
    const name = this.engine.hostname(bmc);
    const fw = firmwareOf(bmc);
    if (bmc.kind === "dpu") {
      return [
        [0.0, `NOTICE:  BL2: v2.2(release):${fw.DPU_ATF}`],
        [0.05, `NOTICE:  BL31: v2.2(release):${fw.DPU_ATF}`],
        [0.12, `UEFI firmware (version ${fw.DPU_BSP ?? "4.9.0"})`],
        [0.2, `${fh.dpu?.model ?? "BlueField DPU"} serial ${fh.dpu?.serialNumber ?? "?"}`],
        [0.3, `Boot mode: ${bmc.bootMode}; booting from eMMC (DPU_OS ${fw.DPU_OS})`],
        [0.4, "EFI stub: Booting Linux Kernel..."],
        [0.45, "[    0.000000] Booting Linux on physical CPU 0x0000000000 [0x410fd421]"],
        [0.5, "[    0.000000] Linux version 5.15.0-1049-bluefield (buildd@bos02-arm64-035) #51-Ubuntu SMP aarch64"],
        [0.6, `[    2.345678] mlx5_core 0000:03:00.0: firmware version: ${fw.DPU_NIC}`],
        [0.7, "[    4.567890] rshim 0000:03:00.2: host side connected"],
        [0.8, "[  OK  ] Started openvswitch-switch.service - Open vSwitch."],
        [0.9, "[  OK  ] Started anvil-agent.service - Anvil DPU agent."],
        [0.97, `Ubuntu 22.04.4 LTS ${name} ttyAMA0`],
      ];
    }
    const hw = fh.hardware;
    const lines: Array<[number, string]> = [
      [0.0, `${hw.manufacturer} UEFI firmware v${fw.BIOS} (${hw.model}) ${name}`],
      [0.05, `System serial number: ${fh.serialNumber}`],
      [0.1, `CPU: ${hw.cpuCount} x ${hw.cpuModel} (${hw.cpuCount * hw.coresPerCpu} cores)`],
      [0.18, `Memory: ${hw.memoryGiB} GiB ... OK`],
      [0.26, fh.dpu ? `PCIe slot 1: ${fh.dpu.model} (virtio-net, virtio-blk)` : "PCIe slot 1: Ethernet controller"],
      [0.32, `Boot mode: ${bmc.bootMode}; boot source: ${bmc.bootFrom}`],
    ];
    switch (bmc.bootFrom) {
      case "Pxe":
        lines.push([0.4, `>>Start PXE over IPv4 on MAC: ${fh.macs[0].toUpperCase()}.`], [0.7, "  PXE-E18: Server response timeout."]);
        break;
      case "UefiHttp":
        lines.push([0.4, ">>Start HTTP Boot over IPv4....."], [0.7, "  Error: Could not retrieve NBP file size from HTTP server."]);
        break;
      case "Cd":
        lines.push([0.4, bmc.media ? `Booting from virtual CD (${bmc.media.image})...` : "Booting from virtual CD... no media inserted."]);
        break;
      default:
        lines.push([0.4, bmc.bootToOs ? "Booting from virtio-blk disk (DPU)..." : "Booting from disk... no boot disk found."]);
    }
    if (bmc.bootToOs) {
      lines.push(
        [0.45, "[    0.000000] Linux version 6.8.0-45-generic (buildd@lcy02-amd64-115) #45-Ubuntu SMP PREEMPT_DYNAMIC x86_64"],
        [0.5, "[    0.000000] Command line: BOOT_IMAGE=/vmlinuz-6.8.0-45-generic root=LABEL=cloudimg-rootfs ro console=tty1 console=ttyS0,115200"],
        [0.58, "[    0.812345] virtio_blk virtio2: [vda] 20971520 512-byte logical blocks (10.7 GB/10.0 GiB)"],
        [0.62, "[    0.834567] virtio_net virtio1 enp3s0: renamed from eth0"],
        [0.7, "[    2.104512] EXT4-fs (vda1): mounted filesystem with ordered data mode. Quota mode: none."],
        [0.78, "[  OK  ] Started systemd-networkd.service - Network Configuration."],
        [0.85, `[   11.902345] cloud-init[642]: Cloud-init v. 24.1.3 running 'init' on ${name}.`],
        [0.92, "[  OK  ] Reached target multi-user.target - Multi-User System."],
        [0.97, `Ubuntu 24.04.1 LTS ${name} ttyS0`],
      );
    }
    return lines;
  }

  private finalScreen(bmc: Bmc): string {
    if (bmc.bootPhase === "noboot") return `${CRLF}No bootable device -- insert boot disk and press any key to retry${CRLF}`;
    return `${CRLF}${this.engine.hostname(bmc)} login: `;
  }

  private prompt(bmc: Bmc): string {
    return `${bmc.termUser}@${this.engine.hostname(bmc)}:~$ `;
  }

  // ------------------------------------------------------------ typed input

  private input(bmc: Bmc, hub: Hub, bytes: string): void {
    for (const ch of bytes) {
      // BREAK detection runs before everything else, across frame boundaries.
      if (ch === BREAK_SEQUENCE[hub.esc]) {
        hub.esc++;
        if (hub.esc === BREAK_SEQUENCE.length) {
          hub.esc = 0;
          this.serialBreak(bmc, hub);
        }
        continue;
      }
      if (hub.esc > 0) {
        const pending = BREAK_SEQUENCE.slice(0, hub.esc);
        hub.esc = 0;
        for (const p of pending) this.key(bmc, hub, p);
        if (ch === BREAK_SEQUENCE[0]) {
          hub.esc = 1;
          continue;
        }
      }
      this.key(bmc, hub, ch);
    }
  }

  private serialBreak(bmc: Bmc, hub: Hub): void {
    if (bmc.power !== "On" || bmc.bootPhase !== "os") return; // firmware ignores a break
    hub.sysrq = true;
  }

  private sysrq(bmc: Bmc, key: string): void {
    const k = key.toLowerCase();
    if (k === "b") {
      this.write(bmc, `${CRLF}[ 4242.000000] sysrq: Resetting${CRLF}`);
      this.engine.reset(bmc, "ForceRestart");
    } else if (k === "o") {
      this.write(bmc, `${CRLF}[ 4242.000000] sysrq: Power Off${CRLF}`);
      this.engine.reset(bmc, "ForceOff");
    } else {
      this.write(
        bmc,
        `${CRLF}[ 4242.000000] sysrq: HELP : loglevel(0-9) reboot(b) crash(c) show-all-locks(d) terminate-all-tasks(e) poweroff(o) sync(s) show-task-states(t)${CRLF}`,
      );
    }
  }

  private key(bmc: Bmc, hub: Hub, ch: string): void {
    if (bmc.power !== "On") return; // no power, nobody reads the line
    if (hub.sysrq) {
      hub.sysrq = false;
      this.sysrq(bmc, ch);
      return;
    }
    if (bmc.bootPhase === "noboot") {
      this.write(bmc, `${CRLF}Rebooting...${CRLF}`);
      this.engine.retryBoot(bmc);
      return;
    }
    if (bmc.bootPhase !== "os") return; // firmware and kernel do not read the console
    const stage = bmc.termStage;
    if (ch === "\r" || ch === "\n") {
      const line = hub.input;
      hub.input = "";
      this.enter(bmc, line);
      return;
    }
    if (ch === "\x03") {
      hub.input = "";
      this.write(bmc, `^C${CRLF}${stage === "shell" ? this.prompt(bmc) : `${this.engine.hostname(bmc)} login: `}`);
      if (stage === "password") bmc.termStage = "login";
      return;
    }
    if (ch === "\x04" && hub.input === "" && stage === "shell") {
      this.logout(bmc);
      return;
    }
    if (ch === "\x7f" || ch === "\b") {
      if (hub.input.length > 0) {
        hub.input = hub.input.slice(0, -1);
        if (stage !== "password") this.write(bmc, "\b \b");
      }
      return;
    }
    if (ch < " " || hub.input.length >= 1024) return; // other control bytes and runaway lines are dropped
    hub.input += ch;
    if (stage !== "password") this.write(bmc, ch);
  }

  private logout(bmc: Bmc): void {
    bmc.termStage = "login";
    bmc.termUser = "";
    this.write(bmc, `logout${CRLF}${CRLF}${this.engine.hostname(bmc)} login: `);
  }

  private enter(bmc: Bmc, line: string): void {
    const name = this.engine.hostname(bmc);
    switch (bmc.termStage) {
      case "login":
        if (line.trim() === "") {
          this.write(bmc, `${CRLF}${name} login: `);
          return;
        }
        bmc.termUser = line.trim();
        bmc.termStage = "password";
        this.write(bmc, `${CRLF}Password: `);
        return;
      case "password":
        bmc.termStage = "shell";
        this.write(
          bmc,
          `${CRLF}Welcome to ${bmc.kind === "dpu" ? "Ubuntu 22.04.4 LTS (GNU/Linux 5.15.0-1049-bluefield aarch64)" : "Ubuntu 24.04.1 LTS (GNU/Linux 6.8.0-45-generic x86_64)"}${CRLF}${CRLF}${this.prompt(bmc)}`,
        );
        return;
      case "shell": {
        this.write(bmc, CRLF);
        const out = this.run(bmc, line.trim());
        if (out === null) return; // the command took over (logout, poweroff)
        this.write(bmc, out + this.prompt(bmc));
      }
    }
  }

  /** A handful of commands, enough for a person or a test to see a live machine. null = no prompt after. */
  private run(bmc: Bmc, cmd: string): string | null {
    if (cmd === "") return "";
    const fh = this.engine.fleetHost(bmc);
    const name = this.engine.hostname(bmc);
    const dpu = bmc.kind === "dpu";
    const [prog, ...args] = cmd.split(/\s+/);
    const out = (s: string) => (s === "" ? "" : s.replace(/\n/g, CRLF) + CRLF);
    switch (prog) {
      case "uname":
        if (args.includes("-a"))
          return out(
            dpu
              ? `Linux ${name} 5.15.0-1049-bluefield #51-Ubuntu SMP Mon Aug 12 12:03:12 UTC 2024 aarch64 aarch64 aarch64 GNU/Linux`
              : `Linux ${name} 6.8.0-45-generic #45-Ubuntu SMP PREEMPT_DYNAMIC Fri Aug 30 12:02:04 UTC 2024 x86_64 x86_64 x86_64 GNU/Linux`,
          );
        return out("Linux");
      case "hostname":
        return out(name);
      case "whoami":
        return out(bmc.termUser);
      case "echo":
        return out(args.join(" "));
      case "nproc":
        return out(String(dpu ? 16 : fh.hardware.cpuCount * fh.hardware.coresPerCpu));
      case "uptime": {
        const s = Math.floor((Date.now() - bmc.onSince) / 1000);
        return out(` up ${Math.floor(s / 60)} min, ${s % 60} sec,  1 user,  load average: 0.00, 0.01, 0.00`);
      }
      case "cat":
        if (args[0] === "/etc/os-release")
          return out(
            dpu ? 'PRETTY_NAME="Ubuntu 22.04.4 LTS"\nNAME="Ubuntu"\nVERSION_ID="22.04"' : 'PRETTY_NAME="Ubuntu 24.04.1 LTS"\nNAME="Ubuntu"\nVERSION_ID="24.04"',
          );
        return out(`cat: ${args[0] ?? ""}: No such file or directory`);
      case "ip": {
        const macs = dpu ? [fh.dpu?.oobMac ?? ""] : fh.macs;
        const names = dpu ? ["oob_net0"] : ["enp3s0", "enp4s0"];
        return out(
          macs
            .map((m, i) => `${i + 2}: ${names[i]}: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 state UP\n    link/ether ${m} brd ff:ff:ff:ff:ff:ff`)
            .join("\n"),
        );
      }
      case "exit":
      case "logout":
        this.logout(bmc);
        return null;
      case "poweroff":
      case "shutdown":
        this.write(bmc, `[  OK  ] Reached target shutdown.target - System Shutdown.${CRLF}`);
        this.engine.reset(bmc, "GracefulShutdown");
        return null;
      case "reboot":
        this.write(bmc, `[  OK  ] Reached target reboot.target - System Reboot.${CRLF}`);
        this.engine.reset(bmc, "GracefulRestart");
        return null;
      default:
        return out(`${prog}: command not found`);
    }
  }
}
