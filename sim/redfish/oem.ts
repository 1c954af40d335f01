// A vendor (OEM) action of the simulated BMCs, for the vendor-passthrough step (issue #17 point 5): the Ironic DPU
// spec opens host→card BMC access before a DPU firmware update and closes it after, through an OEM action on the BMC's
// Manager. Here that is Managers/<id>/Actions/Oem/AnvilManager.HostBmcAccess with {"Enabled": true|false}; the Manager
// advertises the target and shows the present setting under Oem.Anvil.HostBmcAccess. A body without a boolean Enabled,
// or with another parameter, is refused with the Base registry's 400 messages, as a real BMC refuses a bad OEM call.
import { Msg, RedfishError } from "./errors";
import type { Bmc } from "./model";

type Json = Record<string, unknown>;

export const HOST_BMC_ACCESS = "AnvilManager.HostBmcAccess";

/** Whether each BMC lets its host reach the card's BMC (closed until an operator opens it). */
const access = new WeakMap<Bmc, boolean>();

export function hostBmcAccess(bmc: Bmc): "Enabled" | "Disabled" {
  return access.get(bmc) ? "Enabled" : "Disabled";
}

/** The Manager's Actions.Oem and Oem.Anvil members (merged into the Manager resource). */
export function managerOem(bmc: Bmc): { actions: Json; oem: Json } {
  return {
    actions: { [`#${HOST_BMC_ACCESS}`]: { target: `${bmc.managerPath}/Actions/Oem/${HOST_BMC_ACCESS}`, "Enabled@Redfish.AllowableValues": [true, false] } },
    oem: { HostBmcAccess: hostBmcAccess(bmc) },
  };
}

/** POST …/Actions/Oem/AnvilManager.HostBmcAccess: sets the access; the same setting twice is not an error. */
export function setHostBmcAccess(bmc: Bmc, body: Json): void {
  const unknown = Object.keys(body).filter((k) => k !== "Enabled" && !k.startsWith("@"));
  if (unknown.length)
    throw new RedfishError(
      400,
      unknown.map((k) => Msg.actionParameterUnknown(HOST_BMC_ACCESS, k)),
    );
  if (body.Enabled === undefined) throw new RedfishError(400, [Msg.actionParameterMissing(HOST_BMC_ACCESS, "Enabled")]);
  if (typeof body.Enabled !== "boolean") throw new RedfishError(400, [Msg.actionParameterValueTypeError(body.Enabled, "Enabled", HOST_BMC_ACCESS)]);
  access.set(bmc, body.Enabled);
}
