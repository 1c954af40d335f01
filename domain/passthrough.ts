// The vendor-passthrough step's one rule shared by the form, the router and the Redfish driver: which paths an OEM
// action may POST to. Client-safe (no server import).

/**
 * Whether a path may be the target of an OEM passthrough: a path (never a URL with a host) under /redfish/v1 ending in
 * Actions/Oem/<Action>. Anything else (a PATCH-able resource, another host, "..", a query) is not a vendor action and
 * is refused before a request is made.
 */
export function isOemActionPath(path: string): boolean {
  return /^\/redfish\/v1\/(?:[A-Za-z0-9_.-]+\/)*Actions\/Oem\/[A-Za-z0-9_.#-]+$/.test(path) && !path.split("/").some((s) => s === "." || s === "..");
}
