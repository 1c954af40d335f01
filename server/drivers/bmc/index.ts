// Entry point for BMC access: createBmcDriver picks the protocol driver for an endpoint.
// The table below is the only place that knows which drivers exist. To add a protocol, implement
// BmcDriver in its own file and add it to DRIVERS.
import { IpmiDriver } from "./ipmi";
import { RedfishDriver } from "./redfish";
import { BmcError, type BmcDriver, type BmcEndpoint } from "./types";

export * from "./types";
export { type BootOverrideOutcome, bootOverrideOutcome } from "./boot-override";
export { probeRedfish, type RedfishProbe } from "./redfish";

type DriverFactory = (ep: BmcEndpoint) => BmcDriver;

/** Drivers that are implemented. A protocol missing here is refused with a clear error, never faked. */
const DRIVERS: Partial<Record<BmcEndpoint["driver"], DriverFactory>> = {
  ipmi: (ep) => new IpmiDriver(ep),
  redfish: (ep) => new RedfishDriver(ep),
};

export function createBmcDriver(ep: BmcEndpoint): BmcDriver {
  const factory = DRIVERS[ep.driver];
  if (!factory) {
    throw new BmcError(
      "unsupported",
      ep.address,
      `No BMC driver for protocol "${ep.driver}" is installed in this Anvil build (available: ${Object.keys(DRIVERS).join(", ")})`,
    );
  }
  return factory(ep);
}
