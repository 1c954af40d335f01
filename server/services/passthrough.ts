// The vendor-passthrough step (nodes.runStep "passthrough", issue #17 point 5): sends one raw IPMI request or Redfish
// OEM action through a node's driver and phrases the outcome. The request must match the BMC's protocol; the BMC's
// refusal (an IPMI completion code, a Redfish 4xx with its message) comes back as the driver's BmcError, which the
// caller reports as the step's failure — nothing else is sent, so the node is left as it was.
import { hexByteValue, type PassthroughInput } from "@/db/validation/nodes";
import type { BmcDriver } from "@/server/drivers/bmc";

/** Why a passthrough cannot go to this BMC at all (wrong protocol), or null. */
export function passthroughMismatch(d: Pick<BmcDriver, "protocol">, p: PassthroughInput): string | null {
  if (p.kind === "ipmi_raw" && d.protocol !== "ipmi") return "This BMC speaks Redfish: send a Redfish OEM action instead of a raw IPMI command.";
  if (p.kind === "redfish_oem" && d.protocol !== "redfish") return "This BMC speaks IPMI: send a raw IPMI command instead of a Redfish OEM action.";
  return null;
}

/** Sends the request; answers what the BMC said, for the step's result. Throws the driver's error when it refused. */
export async function sendPassthrough(d: BmcDriver, p: PassthroughInput): Promise<string> {
  if (p.kind === "ipmi_raw") {
    if (!d.rawIpmi) throw new Error("This BMC's driver cannot send raw IPMI commands.");
    const data = p.data ? p.data.split(/\s+/).map(hexByteValue) : [];
    const { response } = await d.rawIpmi({ netfn: hexByteValue(p.netfn), cmd: hexByteValue(p.cmd), data });
    const hex = response.map((b) => b.toString(16).padStart(2, "0")).join(" ");
    return `The BMC accepted the raw command${hex ? `; it answered ${hex}` : ""}.`;
  }
  if (!d.oemAction) throw new Error("This BMC's driver cannot send Redfish OEM actions.");
  const res = await d.oemAction(p.path, p.body as Record<string, unknown>);
  return `The BMC accepted ${p.path.split("/").at(-1)} (HTTP ${res.status}).`;
}
