// Redfish dialects of the simulated BMCs: the ways real implementations differ from the lab's tidy default,
// each modelled on a published implementation (DMTF's reference mockups public-smartnic / public-rackmount1)
// or on behaviour seen on BMCs in the field (one-time boot overrides that stick, a clear accepted in one form
// only, no session service, no serial console). A dialect is a set of flags; presets name the combinations.
// Topology flags (systems per BMC, where the DPU lives, resource ids, TLS) are fixed when the simulator starts;
// the behaviour flags can be switched per BMC at run time through the admin API (PUT /admin/bmcs/:id/dialect).

import { z } from "zod";

export interface Dialect {
  /** the preset this dialect started from (for the admin API and messages) */
  name: string;
  // ---- topology: fixed at start
  /** computer systems one BMC serves: 1, or n consecutive hosts of the fleet behind one BMC (Systems/1..n) */
  systemsPerBmc: number;
  /** "own-bmc": a host's DPU has a BMC of its own (BlueField); "same-bmc": the DPU is a second ComputerSystem
   *  (SystemType DPU) of the host's BMC, its chassis Contained by the host's (DMTF public-smartnic) */
  dpu: "own-bmc" | "same-bmc";
  /** resource ids: "lab" (System.Embedded.1 / Bluefield), "dmtf" (437XR1138R2, 1U, Card1-SoC…), "numbered" (1, 2…) */
  ids: "lab" | "dmtf" | "numbered";
  /** serve HTTPS on this BMC's port even when the simulator runs plain HTTP (an operator typing http:// gets TLS) */
  tls: boolean;
  // ---- behaviour: switchable at run time
  /** SessionService offered (false: Basic auth only, no SessionService in the service root) */
  sessions: boolean;
  /** BootSourceOverrideEnabled "Once" honoured (false: accepted, but the BMC keeps the override as "Continuous") */
  bootOnce: boolean;
  /** how a boot override can be cleared: "any" form, or only BootSourceOverrideTarget "None" ("Disabled" is 400) */
  bootClear: "any" | "target-none";
  /** serial console: the system's SerialConsole.WebSocket (lab), its SerialConsole.IPMI or .SSH, the Manager's
   *  SerialConsole/CommandShell (DMTF public-rackmount1), or none at all */
  console: "websocket" | "system-ipmi" | "system-ssh" | "manager" | "none";
  /** port advertised for an SSH console (SerialConsole.SSH.Port / Manager NetworkProtocol.SSH.Port) */
  sshPort: number;
  /** port advertised for IPMI SOL (SerialConsole.IPMI.Port / Manager NetworkProtocol.IPMI.Port) */
  ipmiPort: number;
  /** hardware log: "sel" (LogServices/SEL, LogEntryType SEL); "dmtf" (a "Log1" service without LogEntryType, a
   *  Manager "Log" of Event entries, and the chassis listing the system's Log1 again) */
  logs: "sel" | "dmtf";
  /** virtual media: InsertMedia/EjectMedia actions (lab), or none — PATCH Image/Inserted on the resource (older BMCs) */
  virtualMedia: "actions" | "patch";
  /** the lab's own Oem.Anvil hints linking a host and its DPU BMC (DpuBmcUrl / HostBmcUrl) */
  oemLinks: boolean;
  /** EventService.ServerSentEventUri offered (false: push subscriptions only, as on older BMCs; SSE answers 404) */
  sse: boolean;
  /** EventService.Subscriptions offered: push subscriptions (EventDestination) the BMC POSTs its events to (false:
   *  no Subscriptions collection, as on BMCs that only log; with sse false, events reach Anvil by polling alone) */
  subscriptions: boolean;
}

export const LAB_DIALECT: Dialect = {
  name: "lab",
  systemsPerBmc: 1,
  dpu: "own-bmc",
  ids: "lab",
  tls: false,
  sessions: true,
  bootOnce: true,
  bootClear: "any",
  console: "websocket",
  sshPort: 22,
  ipmiPort: 623,
  logs: "sel",
  virtualMedia: "actions",
  oemLinks: true,
  sse: true,
  subscriptions: true,
};

/** Named presets; see sim/redfish/README.md ("Dialects") for what each one models. */
export const DIALECTS = {
  lab: LAB_DIALECT,
  /** a chassis manager serving two nodes (Systems/1, Systems/2) behind one address */
  "multi-node": { ...LAB_DIALECT, name: "multi-node", systemsPerBmc: 2, ids: "numbered" },
  /** DMTF public-smartnic: the DPU is a ComputerSystem of the host's BMC; logs not named SEL; no serial console */
  "dmtf-smartnic": { ...LAB_DIALECT, name: "dmtf-smartnic", dpu: "same-bmc", ids: "dmtf", logs: "dmtf", console: "none", oemLinks: false },
  /** DMTF public-rackmount1: console only on the Manager (SSH/IPMI/Telnet), logs not named SEL, virtual media without actions */
  "dmtf-rackmount": { ...LAB_DIALECT, name: "dmtf-rackmount", ids: "dmtf", logs: "dmtf", console: "manager", virtualMedia: "patch", oemLinks: false },
  /** a BMC that keeps every override ("Once" becomes "Continuous") and clears it only with Target "None" */
  "sticky-boot": { ...LAB_DIALECT, name: "sticky-boot", bootOnce: false, bootClear: "target-none" },
  /** no SessionService: HTTP Basic on every request */
  "basic-auth": { ...LAB_DIALECT, name: "basic-auth", sessions: false },
  /** the serial console advertised only as IPMI SOL on the system (SerialConsole.IPMI) */
  "ipmi-console": { ...LAB_DIALECT, name: "ipmi-console", console: "system-ipmi" },
  /** no serial console at all */
  "no-console": { ...LAB_DIALECT, name: "no-console", console: "none" },
  /** HTTPS on the BMC's port while the rest of the lab speaks HTTP (an http:// address gets a TLS-only port) */
  "tls-only": { ...LAB_DIALECT, name: "tls-only", tls: true },
  /** events only by push subscriptions: no ServerSentEventUri, the BMC POSTs to subscribers (older BMCs) */
  "push-only": { ...LAB_DIALECT, name: "push-only", sse: false },
  /** no live events at all: neither an event stream nor subscriptions (a BMC read by polling alone) */
  "no-events": { ...LAB_DIALECT, name: "no-events", sse: false, subscriptions: false },
} as const satisfies Record<string, Dialect>;

export type DialectName = keyof typeof DIALECTS;
export const DIALECT_NAMES = Object.keys(DIALECTS) as DialectName[];

/** A dialect as options and the admin API take it: a preset name, or a preset plus overrides. */
export type DialectSpec = DialectName | ({ preset?: DialectName } & Partial<Omit<Dialect, "name">>);

export const TOPOLOGY_KEYS = ["systemsPerBmc", "dpu", "ids", "tls"] as const;

const port = z.number().int().min(1).max(65535);

/** What the admin API accepts: a preset and/or overrides. Topology keys are checked separately (fixed at start). */
export const DialectInput = z
  .object({
    preset: z.enum(DIALECT_NAMES as [DialectName, ...DialectName[]]).optional(),
    systemsPerBmc: z.number().int().min(1).max(16).optional(),
    dpu: z.enum(["own-bmc", "same-bmc"]).optional(),
    ids: z.enum(["lab", "dmtf", "numbered"]).optional(),
    tls: z.boolean().optional(),
    sessions: z.boolean().optional(),
    bootOnce: z.boolean().optional(),
    bootClear: z.enum(["any", "target-none"]).optional(),
    console: z.enum(["websocket", "system-ipmi", "system-ssh", "manager", "none"]).optional(),
    sshPort: port.optional(),
    ipmiPort: port.optional(),
    logs: z.enum(["sel", "dmtf"]).optional(),
    virtualMedia: z.enum(["actions", "patch"]).optional(),
    oemLinks: z.boolean().optional(),
    sse: z.boolean().optional(),
    subscriptions: z.boolean().optional(),
  })
  .strict();

/** Resolve a preset name or preset+overrides into a full dialect. Throws with a readable message on a bad spec. */
export function resolveDialect(spec: DialectSpec | undefined): Dialect {
  if (spec === undefined) return LAB_DIALECT;
  if (typeof spec === "string") {
    const d = (DIALECTS as Record<string, Dialect>)[spec];
    if (!d) throw new Error(`unknown Redfish dialect '${spec}' (known: ${DIALECT_NAMES.join(", ")})`);
    return d;
  }
  const parsed = DialectInput.safeParse(spec);
  if (!parsed.success) throw new Error(`bad Redfish dialect: ${parsed.error.issues.map((i) => `${i.path.join(".") || "(dialect)"}: ${i.message}`).join("; ")}`);
  const { preset, ...overrides } = parsed.data as { preset?: DialectName } & Partial<Dialect>;
  const base = DIALECTS[preset ?? "lab"];
  const out: Dialect = { ...base, ...overrides, name: base.name };
  if (Object.keys(overrides).length) out.name = `${base.name}+${Object.keys(overrides).sort().join(",")}`;
  if (out.dpu === "same-bmc" && out.systemsPerBmc > 1) throw new Error("bad Redfish dialect: a DPU on the host's BMC (dpu same-bmc) needs systemsPerBmc 1");
  return out;
}
