// Words for a boot override as the BMC holds it, for events, audit and the UI: what callers show must be what the
// BMC applied (read back by the driver), not what Anvil asked — some BMCs take "next boot only" and keep the
// override for every boot. Protocol-neutral: works on setBootDevice()'s result, or on the request when the
// driver cannot read the override back.
import type { AppliedBootOverride, BootDevice, BootOptions } from "./types";

export interface BootOverrideOutcome {
  device: BootDevice;
  /** true: every boot; false: next boot only; null: the BMC does not say */
  persistent: boolean | null;
  /** the BMC holds what was asked (as far as it says) */
  honoured: boolean;
  /** one sentence for an operator: "disk, next boot only", "disk — the BMC keeps this override for every boot …" */
  text: string;
}

/** What the BMC holds after setBootDevice(dev, opts) resolved with `result` (nothing: the driver cannot read back). */
export function bootOverrideOutcome(dev: BootDevice, opts: BootOptions, result: { applied: AppliedBootOverride } | undefined | void): BootOverrideOutcome {
  const applied = result ? result.applied : undefined;
  if (!applied) return { device: dev, persistent: opts.persistent, honoured: true, text: `${dev}, ${opts.persistent ? "every boot" : "next boot only"}` };
  const { device, persistent } = applied;
  if (device !== dev) return { device, persistent, honoured: false, text: `${device} — the BMC kept this device although ${dev} was asked` };
  if (persistent === null)
    return {
      device,
      persistent,
      honoured: true,
      text: `${device} (${opts.persistent ? "every boot" : "next boot only"} asked; the BMC does not say which it keeps)`,
    };
  if (persistent && !opts.persistent)
    return {
      device,
      persistent,
      honoured: false,
      text: `${device} — the BMC keeps this override for every boot (it does not do one-time overrides); Anvil clears it when the host returns to the pool`,
    };
  if (!persistent && opts.persistent)
    return { device, persistent, honoured: false, text: `${device} — the BMC applies this override to the next boot only (it does not keep overrides)` };
  return { device, persistent, honoured: true, text: `${device}, ${persistent ? "every boot" : "next boot only"}` };
}
