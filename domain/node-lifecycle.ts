// The node lifecycle: an explicit transition table (Ironic's provision states are the reference) and the
// rules that say which actions a node allows right now. Pure: the routers enforce these rules and the UI asks
// the same functions to disable buttons with the reason.
//
//   enroll ─manage→ verifying ─verified→ manageable ─inspect→ inspecting ─inspected→ manageable
//   manageable ─provide→ available ─deploy→ deploying ─deployed→ active ─undeploy→ deleting
//   deleting ─deleted→ cleaning ─cleaned→ available;  failures → error (or back, see the table)
//   active ─rescue→ rescue ─unrescue→ active;  available/error ─manage→ manageable
//   deploying ─deploy_aborted→ cleaning (a failed create rolled back);  active ─fenced→ error (recovered elsewhere)
// Orthogonal flags: maintenance {reason} (an operator's hold) and fault {reason} (found by health sync).

export const PROVISION_STATES = [
  "enroll",
  "verifying",
  "manageable",
  "inspecting",
  "available",
  "deploying",
  "active",
  "deleting",
  "cleaning",
  "error",
  "rescue",
] as const;
export type ProvisionState = (typeof PROVISION_STATES)[number];

export const NODE_EVENTS = [
  "manage",
  "verified",
  "verify_failed",
  "inspect",
  "inspected",
  "inspect_failed",
  "provide",
  "deploy",
  "deployed",
  "deploy_failed",
  "deploy_aborted",
  "fenced",
  "undeploy",
  "deleted",
  "delete_failed",
  "cleaned",
  "clean_failed",
  "rescue",
  "unrescue",
  "abort",
] as const;
export type NodeEvent = (typeof NODE_EVENTS)[number];

/** Events an operator may request by name; the others are raised by workflows. */
export const OPERATOR_EVENTS: readonly NodeEvent[] = ["manage", "inspect", "provide", "abort"];

const T: Partial<Record<ProvisionState, Partial<Record<NodeEvent, ProvisionState>>>> = {
  enroll: { manage: "verifying" },
  verifying: { verified: "manageable", verify_failed: "enroll", abort: "enroll" },
  manageable: { inspect: "inspecting", provide: "available" },
  inspecting: { inspected: "manageable", inspect_failed: "manageable", abort: "manageable" },
  available: { deploy: "deploying", manage: "manageable" },
  // deploy_aborted: the create's compensation undid its work and cleans the node (then cleaned → available).
  deploying: { deployed: "active", deploy_failed: "error", deploy_aborted: "cleaning" },
  // fenced: the host under a running instance failed and recovery powered it off / wrote it off.
  active: { undeploy: "deleting", rescue: "rescue", fenced: "error" },
  deleting: { deleted: "cleaning", delete_failed: "error" },
  cleaning: { cleaned: "available", clean_failed: "error" },
  error: { undeploy: "deleting", manage: "manageable" },
  rescue: { unrescue: "active", undeploy: "deleting" },
};

export type Verdict = { ok: true } | { ok: false; reason: string };
const ok: Verdict = { ok: true };
const no = (reason: string): Verdict => ({ ok: false, reason });

/** The state an event leads to from `from`, or null when the table forbids it. */
export function nextState(from: ProvisionState, event: NodeEvent): ProvisionState | null {
  return T[from]?.[event] ?? null;
}

export function allowedEvents(from: ProvisionState): NodeEvent[] {
  return Object.keys(T[from] ?? {}) as NodeEvent[];
}

export class IllegalTransition extends Error {
  constructor(
    public from: ProvisionState,
    public event: NodeEvent,
  ) {
    const allowed = allowedEvents(from);
    super(`A node in state "${from}" cannot ${event.replace(/_/g, " ")}${allowed.length ? ` (allowed here: ${allowed.join(", ")})` : ""}.`);
    this.name = "IllegalTransition";
  }
}

/** Applies an event; throws IllegalTransition with the allowed events when the table forbids it. */
export function transition(from: ProvisionState, event: NodeEvent): ProvisionState {
  const to = nextState(from, event);
  if (!to) throw new IllegalTransition(from, event);
  return to;
}

/** The part of a node the rules look at. */
export interface NodeFacts {
  kind: "host" | "dpu";
  provisionState: ProvisionState | string;
  powerState: string;
  maintenance: boolean;
  fault: string | null;
  hasInstance?: boolean;
  parentPowerState?: string | null;
  /** The power actions the node's BMC accepts, as its driver reported them (stored with the inventory at enrolment
   *  and inspection; an IPMI BMC that refused one is remembered). Absent/null: not known, every action is offered. */
  powerActions?: readonly string[] | null;
  /** The BMC's protocol ("redfish" | "ipmi"); absent: not known to the caller. */
  bmcDriver?: string;
  /** True for a DPU recorded without its own BMC credentials (Anvil never reuses its host's): nothing calls its BMC. */
  bmcCredentialsMissing?: boolean;
}

/** Why a DPU without its own BMC credentials offers no BMC action; the server refuses with the same words. */
export const DPU_CREDENTIALS_FIRST = "Set this DPU's BMC credentials first.";

/** The power actions a node offers (the BMC drivers' PowerAction). */
export type NodePowerAction = "on" | "off" | "soft_off" | "reboot" | "soft_reboot" | "power_cycle" | "nmi";

/** How an operator names each power action ("This BMC does not support …"); the BMC drivers say it the same way. */
export const POWER_ACTION_LABELS: Record<NodePowerAction, string> = {
  on: "power on",
  off: "power off",
  soft_off: "soft power off",
  reboot: "reset",
  soft_reboot: "soft reboot",
  power_cycle: "power cycle",
  nmi: "NMI (diagnostic interrupt)",
};

const busy = new Set<string>(["verifying", "inspecting", "deploying", "deleting", "cleaning"]);

function eventRule(n: NodeFacts, event: NodeEvent, busyReason?: string): Verdict {
  if (nextState(n.provisionState as ProvisionState, event)) return ok;
  if (busyReason && busy.has(n.provisionState)) return no(busyReason);
  const allowed = allowedEvents(n.provisionState as ProvisionState).filter((e) => OPERATOR_EVENTS.includes(e));
  return no(`Not possible while the node is ${n.provisionState}${allowed.length ? `; it can: ${allowed.join(", ")}` : ""}.`);
}

/** Which actions a node allows now, each with the reason when it does not (STYLE.md §7). */
export const nodeCan = {
  manage: (n: NodeFacts) =>
    n.kind === "dpu" ? no("A DPU follows its host's lifecycle.") : eventRule(n, "manage", "Wait for the current operation to finish."),
  inspect: (n: NodeFacts) =>
    n.kind === "dpu" ? no("Inspect the host; its DPUs are discovered with it.") : eventRule(n, "inspect", "Wait for the current operation to finish."),
  provide(n: NodeFacts): Verdict {
    if (n.kind === "dpu") return no("A DPU follows its host's lifecycle.");
    if (n.maintenance) return no("The node is in maintenance; end maintenance first.");
    if (n.fault) return no(`The node has a fault: ${n.fault}`);
    return eventRule(n, "provide");
  },
  abort: (n: NodeFacts) => eventRule(n, "abort"),
  deploy(n: NodeFacts): Verdict {
    if (n.kind === "dpu") return no("Instances run on hosts, not on DPUs.");
    if (n.maintenance) return no("The node is in maintenance.");
    if (n.fault) return no(`The node has a fault: ${n.fault}`);
    return eventRule(n, "deploy");
  },
  power(n: NodeFacts, action: NodePowerAction): Verdict {
    if (n.bmcCredentialsMissing) return no(DPU_CREDENTIALS_FIRST);
    if (n.provisionState === "enroll" || n.provisionState === "verifying") return no("Verify the node's BMC first (manage).");
    // A BMC that lacks the action (IPMI has no soft reboot; many BMCs refuse NMI) is not offered it at all.
    if (n.powerActions && !n.powerActions.includes(action)) return no(`This BMC does not support ${POWER_ACTION_LABELS[action]}.`);
    if (busy.has(n.provisionState) && n.provisionState !== "inspecting")
      return no(`Anvil is ${n.provisionState} this node; power is under its control until that finishes.`);
    if (n.powerState === "unknown" && action !== "on" && action !== "off") return no("The power state is unknown; the BMC may be unreachable.");
    if (action === "on" && n.powerState === "on") return no("It is already on.");
    if ((action === "off" || action === "soft_off") && n.powerState === "off") return no("It is already off.");
    if ((action === "reboot" || action === "soft_reboot" || action === "nmi") && n.powerState === "off") return no("It is off; power it on instead.");
    return ok;
  },
  setBootDevice(n: NodeFacts): Verdict {
    if (n.bmcCredentialsMissing) return no(DPU_CREDENTIALS_FIRST);
    if (n.provisionState === "enroll" || n.provisionState === "verifying") return no("Verify the node's BMC first (manage).");
    if (n.provisionState === "deploying" || n.provisionState === "cleaning") return no(`Anvil controls the boot device while ${n.provisionState}.`);
    return ok;
  },
  /** The vendor-passthrough step (a raw IPMI command or Redfish OEM action): what it does is the vendor's, so never
   *  while Anvil itself drives the node. */
  passthrough(n: NodeFacts): Verdict {
    if (n.bmcCredentialsMissing) return no(DPU_CREDENTIALS_FIRST);
    if (n.provisionState === "enroll" || n.provisionState === "verifying") return no("Verify the node's BMC first (manage).");
    if (busy.has(n.provisionState)) return no(`Anvil is ${n.provisionState} this node; send vendor commands when that finishes.`);
    return ok;
  },
  maintenanceOn: (n: NodeFacts) => (n.maintenance ? no("It is already in maintenance.") : ok),
  maintenanceOff: (n: NodeFacts) => (n.maintenance ? ok : no("It is not in maintenance.")),
  moveToPool(n: NodeFacts): Verdict {
    if (n.kind === "dpu") return no("A DPU stays with its host.");
    if (n.hasInstance || ["deploying", "active", "deleting", "rescue"].includes(n.provisionState)) return no("The node runs an instance; release it first.");
    return ok;
  },
  delete(n: NodeFacts): Verdict {
    if (n.kind === "dpu") return no("Delete the host; its DPUs go with it.");
    if (n.hasInstance || ["deploying", "active", "deleting", "rescue", "cleaning"].includes(n.provisionState))
      return no("The node runs an instance or is being cleaned; release it first.");
    if (busy.has(n.provisionState)) return no("Wait for the current operation to finish.");
    return ok;
  },
  firmwareUpdate(n: NodeFacts): Verdict {
    if (n.bmcCredentialsMissing) return no(DPU_CREDENTIALS_FIRST);
    if (n.kind === "dpu") return n.powerState === "on" ? ok : no("The DPU must be powered on to take an update.");
    // A host's BMC, BIOS or NIC firmware: never under a tenant's instance or while Anvil works on the host.
    if (n.provisionState === "enroll" || n.provisionState === "verifying") return no("Verify the node's BMC first (manage).");
    if (["deploying", "active", "deleting", "rescue", "cleaning"].includes(n.provisionState) || busy.has(n.provisionState))
      return no("The host runs an instance or Anvil is working on it; update its firmware when it is free.");
    return ok;
  },
  /** Boot a host once from an ISO through Redfish VirtualMedia (server/workflows/virtual-media.ts). */
  virtualMediaBoot(n: NodeFacts): Verdict {
    if (n.kind === "dpu") return no("A DPU boots its own OS; boot its host from an ISO instead.");
    if (n.bmcDriver === "ipmi") return no("IPMI has no virtual media; only a Redfish BMC can mount an ISO.");
    if (n.provisionState === "enroll" || n.provisionState === "verifying") return no("Verify the node's BMC first (manage).");
    // Booting another OS would take the machine from under the tenant's instance.
    if (n.hasInstance || ["deploying", "active", "deleting", "rescue", "cleaning"].includes(n.provisionState))
      return no("The node runs an instance or is being cleaned; release it first.");
    if (busy.has(n.provisionState)) return no("Wait for the current operation to finish.");
    if (n.powerState === "unknown") return no("The power state is unknown; the BMC may be unreachable.");
    return ok;
  },
};

export type NodeAction = keyof typeof nodeCan;
