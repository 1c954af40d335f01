// BMC cascade (the xFusion deck's style): a host's BMC carries its DPU's BMC behind it and proxies the DPU BMC's whole
// Redfish service under a path of its own, /redfish/v1/Oem/Anvil/Cascade/<dpu-id>/redfish/v1/…, so the DPU needs no
// management address: a client reaches it at the host BMC's address with the DPU BMC's OWN credentials (the proxy
// forwards the request, authentication included, and the DPU BMC checks it). The DPU BMC's own listener refuses every
// connection (its port is on the card's internal network, not the management one), and the host BMC advertises the
// DPU by that path: its NetworkDeviceFunction's Links.OffloadSystem names the DPU system through the cascade.
import { Msg, RedfishError } from "./errors";
import type { Bmc } from "./model";

/** Where a host BMC serves the Redfish services of the DPU BMCs behind it. */
export const CASCADE_ROOT = "/redfish/v1/Oem/Anvil/Cascade";

/** The path on its host's BMC under which a cascaded DPU BMC's service is proxied (its "/redfish/v1/" is below it). */
export function cascadePathOf(dpu: Bmc): string {
  return `${CASCADE_ROOT}/${encodeURIComponent(dpu.id)}`;
}

/**
 * A request to the host BMC `bmc` that is for a DPU BMC behind it: that DPU BMC and the URL to hand it (the path after
 * the DPU's prefix, with the query). Undefined when the path is not under the cascade root; a 404 naming the path for a
 * DPU this BMC does not carry (a DPU with its own address, another host's, or none), so nothing is forwarded blindly.
 */
export function cascadeHop(bmc: Bmc, rawUrl: string): { dpu: Bmc; url: string } | undefined {
  const url = new URL(rawUrl, "http://bmc");
  if (!url.pathname.startsWith(`${CASCADE_ROOT}/`)) return undefined;
  const [id = "", ...rest] = url.pathname.slice(CASCADE_ROOT.length + 1).split("/");
  let dpuId: string;
  try {
    dpuId = decodeURIComponent(id);
  } catch {
    throw new RedfishError(404, [Msg.resourceMissingAtURI(url.pathname)]);
  }
  const dpu = bmc.members.map((m) => m.dpu).find((d) => d?.cascaded && d.id === dpuId);
  if (!dpu) throw new RedfishError(404, [Msg.resourceMissingAtURI(url.pathname)]);
  // The DPU BMC itself may be down behind a live host BMC: the proxy says so rather than hanging.
  if (dpu.endpoint.faults?.unreachable) throw new RedfishError(503, [Msg.serviceTemporarilyUnavailable(5)], { "Retry-After": "5" });
  return { dpu: dpu.endpoint, url: `/${rest.join("/")}${url.search}` };
}
