// The seam between a simulated BMC and a real machine behind it. By default a host's power, boot and console are
// the in-memory model (model.ts, console.ts). A host given a SystemBackend (RedfishSimOptions.systemBackend) is a
// real machine instead — in the real lab a QEMU VM (sim/real/qemu-backend.ts): ComputerSystem.Reset is carried
// out by the backend, PowerState and BootProgress follow what the machine reports, and the serial console
// WebSocket carries the machine's own serial port. Everything else (sessions, SEL, events, dialects, virtual
// media, boot-override properties) stays the BMC's, as on a real server.
import type { BootTarget, ResetType } from "./model";

/** What a backend tells its BMC. */
export interface SystemBackendSink {
  /** the machine's power really changed (including changes the guest made itself: poweroff, a halt) */
  power(state: "On" | "Off"): void;
  /** the boot moved on; `noBootDevice` = the firmware found nothing to boot */
  bootProgress(state: string, info?: { noBootDevice?: boolean }): void;
}

export interface SerialPort {
  /** the latest output, sent to a viewer that joins */
  scrollback(): Buffer;
  /** live output; returns an unsubscribe function */
  subscribe(listener: (chunk: Buffer) => void): () => void;
  /** keystrokes to the machine */
  write(bytes: Buffer): void;
}

export interface SystemBackend {
  /** Called once when the BMC takes the machine on. */
  bind(sink: SystemBackendSink): void;
  /**
   * Carry out a ComputerSystem.Reset the BMC has already validated against its PowerState. `bootFrom` is the source
   * the boot this reset starts should use (the BMC applied and consumed its override). Rejections are logged to the SEL.
   */
  reset(type: ResetType, bootFrom: BootTarget): Promise<void>;
  /** BootProgress.LastState while the machine is On. */
  bootProgress(): string;
  readonly serial: SerialPort;
}
