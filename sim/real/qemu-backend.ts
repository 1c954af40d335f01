// A QemuHost as the machine behind a Redfish BMC of the simulator (sim/redfish/backend.ts): ComputerSystem.Reset
// drives QEMU over QMP, PowerState and BootProgress follow what the VM does, and the BMC's serial console is the
// VM's ttyS0 (fanned out by the host's SerialHub).
import type { SystemBackend } from "../redfish/backend";
import type { BootTarget, ResetType } from "../redfish/model";
import type { BootSource, QemuHost } from "./qemu-host";

/** Redfish boot source → what the QEMU host can present. There is no HTTP boot server in the lab: like PXE, it finds nothing. */
function source(t: BootTarget): BootSource {
  return t === "UefiHttp" ? "Pxe" : t;
}

export function qemuSystemBackend(host: QemuHost, opts: { gracefulTimeoutMs?: number } = {}): SystemBackend {
  const graceful = opts.gracefulTimeoutMs ?? 120_000;
  return {
    serial: host.serial,
    bind(sink) {
      host.onChange((what) => {
        if (what === "power") sink.power(host.power);
        else sink.bootProgress(host.bootProgress, { noBootDevice: host.noBootDevice });
      });
      if (host.power === "On") sink.power("On");
    },
    bootProgress: () => host.bootProgress,
    async reset(type: ResetType, bootFrom: BootTarget) {
      const from = source(bootFrom);
      switch (type) {
        case "On":
          return host.powerOn(from);
        case "ForceOff":
          return host.powerOff();
        case "GracefulShutdown":
          await host.gracefulShutdown(graceful);
          return;
        case "ForceRestart":
          return host.reset(from);
        case "GracefulRestart":
          await host.gracefulShutdown(graceful);
          return host.powerOn(from);
        case "PowerCycle":
          await host.powerOff();
          return host.powerOn(from);
        case "Nmi":
          return host.nmi();
      }
    },
  };
}
