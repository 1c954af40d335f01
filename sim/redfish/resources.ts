// The JSON of every Redfish resource a simulated BMC serves, built on request from the BMC's small state
// (nothing is kept pre-rendered, so 20,000 BMCs cost only their state). Links to the other BMC of a
// host/DPU pair are absolute URLs on that BMC's own base URL.

import { createHash } from "node:crypto";
import type { FleetHost } from "../fleet";
import { hasBios } from "./bios";
import { cascadePathOf } from "./cascade";
import { managerOem } from "./oem";
import type { SimContext } from "./handler";
import { type Bmc, BOOT_ENABLED, BOOT_MODES, BOOT_TARGETS, firmwareOf, logIdOf, RESET_TYPES, SEL_CAP, type SelEntry } from "./model";

export type Json = Record<string, unknown>;

const ref = (id: string) => ({ "@odata.id": id });

export function etagOf(body: string): string {
  return `"${createHash("sha1").update(body).digest("base64url").slice(0, 20)}"`;
}

/** Deterministic UUID per BMC so inventories are stable across restarts of the lab. */
export function uuidOf(bmc: Bmc): string {
  const h = createHash("sha1").update(`${bmc.kind}:${bmc.id}`).digest("hex");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** A Redfish collection of the resources at `members` (their paths). */
export function collection(path: string, type: string, name: string, members: string[]): Json {
  return {
    "@odata.id": path,
    "@odata.type": `#${type}.${type}`,
    Name: name,
    Members: members.map(ref),
    "Members@odata.count": members.length,
  };
}

export const resetTargetOf = (bmc: Bmc) => `${bmc.systemPath}/Actions/Sim/ComputerSystem.Reset`;
export const consolePathOf = (bmc: Bmc) => `/console/${bmc.ids.system}`;
export const functionPathOf = (bmc: Bmc) => `${bmc.chassisPath}/NetworkAdapters/${bmc.ids.adapter}/NetworkDeviceFunctions/${bmc.ids.function}`;

function stateOf(ctx: SimContext, bmc: Bmc): Json {
  const state = bmc.power === "On" ? "Enabled" : bmc.power === "PoweringOn" ? "Starting" : bmc.power === "PoweringOff" ? "Disabled" : "StandbyOffline";
  const health = ctx.engine.healthOf(bmc);
  return { State: state, Health: health, HealthRollup: health };
}

export function serviceRoot(bmc: Bmc): Json {
  const sessions = bmc.dialect.sessions;
  return {
    "@odata.id": "/redfish/v1/",
    "@odata.type": "#ServiceRoot.v1_17_0.ServiceRoot",
    Id: "RootService",
    Name: "Root Service",
    RedfishVersion: "1.21.0",
    UUID: uuidOf(bmc),
    Vendor: bmc.kind === "dpu" ? "Nvidia" : "Anvil Lab",
    Product: bmc.kind === "dpu" ? "BlueField BMC (Anvil simulator)" : "Anvil Redfish BMC simulator",
    Systems: ref("/redfish/v1/Systems"),
    Chassis: ref("/redfish/v1/Chassis"),
    Managers: ref("/redfish/v1/Managers"),
    ...(sessions ? { SessionService: ref("/redfish/v1/SessionService") } : {}),
    EventService: ref("/redfish/v1/EventService"),
    TaskService: ref("/redfish/v1/TaskService"),
    UpdateService: ref("/redfish/v1/UpdateService"),
    Registries: ref("/redfish/v1/Registries"),
    Links: sessions ? { Sessions: ref("/redfish/v1/SessionService/Sessions") } : {},
    ProtocolFeaturesSupported: {
      ExpandQuery: { ExpandAll: false, Levels: false, Links: false, NoLinks: false },
      FilterQuery: false,
      SelectQuery: false,
      OnlyMemberQuery: false,
      ExcerptQuery: false,
      TopSkipQuery: true,
    },
  };
}

/** The Systems collection of a BMC: every machine it serves (one, or several nodes, or a host and its DPU). */
export function systems(endpoint: Bmc): Json {
  return collection(
    "/redfish/v1/Systems",
    "ComputerSystemCollection",
    "Computer System Collection",
    endpoint.members.map((m) => m.systemPath),
  );
}

/** Boot override AllowableValues: a BMC that clears only with Target "None" does not list "Disabled". */
function bootEnabledValues(bmc: Bmc): readonly string[] {
  return bmc.dialect.bootClear === "target-none" ? BOOT_ENABLED.filter((v) => v !== "Disabled") : BOOT_ENABLED;
}

/** ComputerSystem.SerialConsole in the BMC's dialect (absent when the console lives on the Manager or nowhere). */
function serialConsole(bmc: Bmc): Json | undefined {
  const d = bmc.dialect;
  const off = { ServiceEnabled: false };
  switch (d.console) {
    case "websocket":
      return {
        MaxConcurrentSessions: 8,
        IPMI: off,
        SSH: off,
        Telnet: off,
        WebSocket: {
          ServiceEnabled: true,
          // Behind a cascade the BMC's own address is unreachable: a relative URI, which a client resolves through the proxy.
          ConsoleURI: bmc.cascaded ? consolePathOf(bmc) : `${bmc.url.replace(/^http(s?):/, "ws$1:")}${consolePathOf(bmc)}`,
          Interactive: true,
        },
      };
    case "system-ipmi":
      return {
        MaxConcurrentSessions: 1,
        IPMI: { ServiceEnabled: true, Port: d.ipmiPort, HotKeySequenceDisplay: "Press ~. to exit console" },
        SSH: off,
        Telnet: off,
      };
    case "system-ssh":
      return { MaxConcurrentSessions: 4, IPMI: off, SSH: { ServiceEnabled: true, Port: d.sshPort, SharedWithManagerCLI: false }, Telnet: off };
    default:
      return undefined;
  }
}

export function system(ctx: SimContext, bmc: Bmc): Json {
  const e = ctx.engine;
  const fh = e.fleetHost(bmc);
  const sys = bmc.systemPath;
  const base: Json = {
    "@odata.id": sys,
    "@odata.type": "#ComputerSystem.v1_26_0.ComputerSystem",
    Id: bmc.ids.system,
    Name: bmc.kind === "dpu" ? "Bluefield SoC" : "System",
    HostName: e.hostname(bmc),
    UUID: uuidOf(bmc),
    AssetTag: bmc.assetTag,
    PowerState: bmc.power,
    Status: stateOf(ctx, bmc),
    Boot: {
      BootSourceOverrideEnabled: bmc.bootEnabled,
      BootSourceOverrideTarget: bmc.bootTarget,
      BootSourceOverrideMode: bmc.bootMode,
      "BootSourceOverrideEnabled@Redfish.AllowableValues": bootEnabledValues(bmc),
      "BootSourceOverrideTarget@Redfish.AllowableValues": BOOT_TARGETS,
      "BootSourceOverrideMode@Redfish.AllowableValues": BOOT_MODES,
    },
    BootProgress: { LastState: e.bootProgress(bmc), LastStateTime: new Date(bmc.onSince || Date.parse(e.startedAt)).toISOString() },
    EthernetInterfaces: ref(`${sys}/EthernetInterfaces`),
    Processors: ref(`${sys}/Processors`),
    LogServices: ref(`${sys}/LogServices`),
    VirtualMedia: ref(`${sys}/VirtualMedia`),
    ...(hasBios(bmc) ? { Bios: ref(`${sys}/Bios`) } : {}),
    ...(serialConsole(bmc) ? { SerialConsole: serialConsole(bmc) } : {}),
    Links: { Chassis: [ref(bmc.chassisPath)], ManagedBy: [ref(bmc.endpoint.managerPath)] },
    Actions: {
      "#ComputerSystem.Reset": {
        target: resetTargetOf(bmc),
        "ResetType@Redfish.AllowableValues": RESET_TYPES,
        "@Redfish.ActionInfo": `${sys}/ResetActionInfo`,
      },
    },
  };
  if (bmc.kind === "dpu") {
    const host = bmc.host;
    // On its host's BMC (DMTF public-smartnic) the DPU offloads the functions of its own card, linked by path.
    const offloaded = !host ? [] : host.endpoint === bmc.endpoint ? [ref(functionPathOf(bmc))] : [ref(`${host.url}${functionPathOf(host)}`)];
    const oem: Json = { AgentUrl: bmc.agentUrl, DedicatedPower: bmc.dedicatedPower };
    if (bmc.dialect.oemLinks) oem.HostBmcUrl = host?.url ?? null;
    return {
      ...base,
      SystemType: "DPU",
      Manufacturer: "Nvidia",
      Model: fh.dpu?.model ?? "BlueField DPU",
      SerialNumber: fh.dpu?.serialNumber ?? "",
      ProcessorSummary: { Count: 1, CoreCount: 16, Model: "ARM Cortex-A78AE", Status: { State: "Enabled", Health: "OK" } },
      MemorySummary: { TotalSystemMemoryGiB: 32, Status: { State: "Enabled", Health: "OK" } },
      Links: { ...(base.Links as Json), OffloadedNetworkDeviceFunctions: offloaded },
      Oem: { Anvil: oem },
    };
  }
  const hw = fh.hardware;
  return {
    ...base,
    SystemType: "Physical",
    Manufacturer: hw.manufacturer,
    Model: hw.model,
    SerialNumber: fh.serialNumber,
    ProcessorSummary: { Count: hw.cpuCount, CoreCount: hw.cpuCount * hw.coresPerCpu, Model: hw.cpuModel, Status: { State: "Enabled", Health: "OK" } },
    MemorySummary: { TotalSystemMemoryGiB: hw.memoryGiB, Status: { State: "Enabled", Health: "OK" } },
    Oem: {
      Anvil: bmc.dialect.oemLinks ? { DpuBmcUrl: (!bmc.dpu?.cascaded && bmc.dpu?.url) || null, HardwareClass: hw.className } : { HardwareClass: hw.className },
    },
  };
}

interface CpuInfo {
  sockets: number;
  cores: number;
  model: string;
  arch: "x86" | "ARM";
  isa: "x86-64" | "ARM-A64";
  mhz: number;
}

function cpuOf(ctx: SimContext, bmc: Bmc): CpuInfo {
  if (bmc.kind === "dpu") return { sockets: 1, cores: 16, model: "ARM Cortex-A78AE", arch: "ARM", isa: "ARM-A64", mhz: 2300 };
  const hw = ctx.engine.fleetHost(bmc).hardware;
  const ghz = /@ ([\d.]+)GHz/.exec(hw.cpuModel);
  return { sockets: hw.cpuCount, cores: hw.coresPerCpu, model: hw.cpuModel, arch: "x86", isa: "x86-64", mhz: ghz ? Math.round(Number(ghz[1]) * 1000) : 2450 };
}

export function processors(ctx: SimContext, bmc: Bmc): Json {
  const p = `${bmc.systemPath}/Processors`;
  const n = cpuOf(ctx, bmc).sockets;
  return collection(
    p,
    "ProcessorCollection",
    "Processors Collection",
    Array.from({ length: n }, (_, i) => `${p}/CPU${i + 1}`),
  );
}

export function processor(ctx: SimContext, bmc: Bmc, id: string): Json | undefined {
  const cpu = cpuOf(ctx, bmc);
  const m = /^CPU(\d+)$/.exec(id);
  if (!m || Number(m[1]) < 1 || Number(m[1]) > cpu.sockets) return undefined;
  return {
    "@odata.id": `${bmc.systemPath}/Processors/${id}`,
    "@odata.type": "#Processor.v1_20_0.Processor",
    Id: id,
    Name: `Processor ${m[1]}`,
    Socket: `CPU ${m[1]}`,
    ProcessorType: "CPU",
    ProcessorArchitecture: cpu.arch,
    InstructionSet: cpu.isa,
    Model: cpu.model,
    TotalCores: cpu.cores,
    TotalThreads: cpu.arch === "x86" ? cpu.cores * 2 : cpu.cores,
    MaxSpeedMHz: cpu.mhz,
    Status: { State: "Enabled", Health: "OK" },
  };
}

export function resetActionInfo(bmc: Bmc): Json {
  return {
    "@odata.id": `${bmc.systemPath}/ResetActionInfo`,
    "@odata.type": "#ActionInfo.v1_4_0.ActionInfo",
    Id: "ResetActionInfo",
    Name: "Reset Action Info",
    Parameters: [{ Name: "ResetType", Required: true, DataType: "String", AllowableValues: RESET_TYPES }],
  };
}

function nicsOf(bmc: Bmc, fh: FleetHost): Array<{ id: string; mac: string; name: string }> {
  if (bmc.kind === "dpu") return [{ id: "oob_net0", mac: fh.dpu?.oobMac ?? "", name: "Out-of-band management port" }];
  return fh.macs.map((mac, i) => ({ id: `NIC.${i + 1}`, mac, name: `virtio-net function ${i + 1}` }));
}

export function ethernetInterfaces(ctx: SimContext, bmc: Bmc): Json {
  const fh = ctx.engine.fleetHost(bmc);
  const p = `${bmc.systemPath}/EthernetInterfaces`;
  return collection(
    p,
    "EthernetInterfaceCollection",
    "Ethernet Interface Collection",
    nicsOf(bmc, fh).map((n) => `${p}/${n.id}`),
  );
}

export function ethernetInterface(ctx: SimContext, bmc: Bmc, id: string): Json | undefined {
  const nic = nicsOf(bmc, ctx.engine.fleetHost(bmc)).find((n) => n.id === id);
  if (!nic) return undefined;
  return {
    "@odata.id": `${bmc.systemPath}/EthernetInterfaces/${nic.id}`,
    "@odata.type": "#EthernetInterface.v1_12_1.EthernetInterface",
    Id: nic.id,
    Name: nic.name,
    MACAddress: nic.mac,
    PermanentMACAddress: nic.mac,
    SpeedMbps: bmc.kind === "dpu" ? 1000 : 100000,
    LinkStatus: bmc.power === "On" ? "LinkUp" : "NoLink",
    InterfaceEnabled: true,
    Status: { State: "Enabled", Health: "OK" },
  };
}

export function logServices(bmc: Bmc): Json {
  return collection(`${bmc.systemPath}/LogServices`, "LogServiceCollection", "Log Service Collection", [`${bmc.systemPath}/LogServices/${logIdOf(bmc)}`]);
}

/** The system's hardware log: "SEL" with LogEntryType SEL (lab), or DMTF's "Log1" that does not say what it holds. */
export function selService(bmc: Bmc): Json {
  const id = logIdOf(bmc);
  const p = `${bmc.systemPath}/LogServices/${id}`;
  const dmtf = id !== "SEL";
  return {
    "@odata.id": p,
    "@odata.type": "#LogService.v1_6_0.LogService",
    Id: id,
    Name: dmtf ? "System Log Service" : "System Event Log",
    ...(dmtf ? {} : { LogEntryType: "SEL" }),
    OverWritePolicy: "WrapsWhenFull",
    MaxNumberOfRecords: SEL_CAP,
    ServiceEnabled: true,
    DateTime: new Date().toISOString(),
    Entries: ref(`${p}/Entries`),
    Actions: { "#LogService.ClearLog": { target: `${p}/Actions/LogService.ClearLog` } },
  };
}

export const SEL_PAGE = 100;

export function selEntryJson(bmc: Bmc, e: SelEntry): Json {
  return {
    "@odata.id": `${bmc.systemPath}/LogServices/${logIdOf(bmc)}/Entries/${e.id}`,
    "@odata.type": "#LogEntry.v1_16_0.LogEntry",
    Id: String(e.id),
    Name: `Log Entry ${e.id}`,
    EntryType: "SEL",
    EntryCode: "Assert",
    Created: e.created,
    Severity: e.severity,
    Message: e.message,
    MessageId: e.messageId,
    SensorType: e.sensorType,
  };
}

/** Entries of a log, oldest first, SEL_PAGE per page with Members@odata.nextLink ($skip/$top honoured). */
function entryPage(p: string, name: string, all: SelEntry[], json: (e: SelEntry) => Json, skip: number, top: number): Json {
  const n = Math.min(top, SEL_PAGE);
  const page = all.slice(skip, skip + n);
  const out: Json = {
    "@odata.id": p,
    "@odata.type": "#LogEntryCollection.LogEntryCollection",
    Name: name,
    Members: page.map(json),
    "Members@odata.count": all.length,
  };
  const end = skip + page.length;
  if (end < all.length && end < skip + top) out["Members@odata.nextLink"] = `${p}?$skip=${end}${Number.isFinite(top) ? `&$top=${skip + top - end}` : ""}`;
  return out;
}

/** SEL entries, oldest first, SEL_PAGE per page with Members@odata.nextLink ($skip/$top honoured). */
export function selEntries(ctx: SimContext, bmc: Bmc, skip: number, top: number): Json {
  const p = `${bmc.systemPath}/LogServices/${logIdOf(bmc)}/Entries`;
  return entryPage(p, "System Event Log Entries", ctx.engine.selOf(bmc), (e) => selEntryJson(bmc, e), skip, top);
}

/** The Manager's log services (dialect logs "dmtf" only, as in DMTF public-rackmount1: one "Log" of Event entries). */
export function managerLogServices(endpoint: Bmc): Json {
  const p = `${endpoint.managerPath}/LogServices`;
  return collection(p, "LogServiceCollection", "Log Service Collection", [`${p}/Log`]);
}

export function managerLogService(endpoint: Bmc): Json {
  const p = `${endpoint.managerPath}/LogServices/Log`;
  return {
    "@odata.id": p,
    "@odata.type": "#LogService.v1_6_0.LogService",
    Id: "Log",
    Name: "Manager Log Service",
    OverWritePolicy: "WrapsWhenFull",
    MaxNumberOfRecords: SEL_CAP,
    ServiceEnabled: true,
    DateTime: new Date().toISOString(),
    Entries: ref(`${p}/Entries`),
  };
}

export function managerLogEntryJson(endpoint: Bmc, e: SelEntry): Json {
  return {
    "@odata.id": `${endpoint.managerPath}/LogServices/Log/Entries/${e.id}`,
    "@odata.type": "#LogEntry.v1_16_0.LogEntry",
    Id: String(e.id),
    Name: `Log Entry ${e.id}`,
    EntryType: "Event",
    Created: e.created,
    Severity: e.severity,
    Message: e.message,
    MessageId: e.messageId,
  };
}

export function managerLogEntries(ctx: SimContext, endpoint: Bmc, skip: number, top: number): Json {
  const p = `${endpoint.managerPath}/LogServices/Log/Entries`;
  return entryPage(p, "Manager Log Entries", ctx.engine.mgrLogOf(endpoint), (e) => managerLogEntryJson(endpoint, e), skip, top);
}

/** A chassis's log services (dialect logs "dmtf"): the system's Log1 listed again, so a reader following every
 *  link meets the same service twice and must dedupe by @odata.id. */
export function chassisLogServices(bmc: Bmc): Json {
  return collection(`${bmc.chassisPath}/LogServices`, "LogServiceCollection", "Log Service Collection", [`${bmc.systemPath}/LogServices/${logIdOf(bmc)}`]);
}

export function virtualMediaCollection(bmc: Bmc): Json {
  const p = `${bmc.systemPath}/VirtualMedia`;
  return collection(p, "VirtualMediaCollection", "Virtual Media Collection", [`${p}/${bmc.ids.media}`]);
}

/** The virtual CD: with InsertMedia/EjectMedia actions (lab), or without any (dialect virtualMedia "patch", as DMTF
 *  public-rackmount1's CD1 and older BMCs: PATCH Image/Inserted/WriteProtected on the resource). */
export function virtualMediaCd(bmc: Bmc): Json {
  const p = `${bmc.systemPath}/VirtualMedia/${bmc.ids.media}`;
  const m = bmc.media;
  const out: Json = {
    "@odata.id": p,
    "@odata.type": "#VirtualMedia.v1_6_3.VirtualMedia",
    Id: bmc.ids.media,
    Name: "Virtual CD",
    MediaTypes: ["CD", "DVD"],
    Image: m?.image ?? null,
    ImageName: m ? (m.image.split("/").pop() ?? m.image) : null,
    Inserted: m?.inserted ?? false,
    WriteProtected: m?.writeProtected ?? true,
    ConnectedVia: m ? "URI" : "NotConnected",
    TransferProtocolType: m?.transferProtocolType ?? null,
  };
  if (bmc.dialect.virtualMedia === "actions") {
    out.Actions = {
      "#VirtualMedia.InsertMedia": {
        target: `${p}/Actions/VirtualMedia.InsertMedia`,
        "TransferProtocolType@Redfish.AllowableValues": ["HTTP", "HTTPS", "NFS", "CIFS"],
      },
      "#VirtualMedia.EjectMedia": { target: `${p}/Actions/VirtualMedia.EjectMedia` },
    };
  }
  return out;
}

export function chassisCollection(endpoint: Bmc): Json {
  return collection(
    "/redfish/v1/Chassis",
    "ChassisCollection",
    "Chassis Collection",
    endpoint.members.map((m) => m.chassisPath),
  );
}

/** Is this host's DPU a second system of the same BMC (DMTF public-smartnic)? */
const dpuOnSameBmc = (host: Bmc) => host.dpu !== undefined && host.dpu.endpoint === host.endpoint;

export function chassis(ctx: SimContext, bmc: Bmc): Json {
  const fh = ctx.engine.fleetHost(bmc);
  const dpu = bmc.kind === "dpu";
  const links: Json = { ComputerSystems: [ref(bmc.systemPath)], ManagedBy: [ref(bmc.endpoint.managerPath)] };
  // DMTF public-smartnic: the host's chassis Contains the card's chassis; the card is ContainedBy the host's.
  if (!dpu && dpuOnSameBmc(bmc) && bmc.dpu) links.Contains = [ref(bmc.dpu.chassisPath)];
  if (dpu && bmc.host && bmc.host.endpoint === bmc.endpoint) links.ContainedBy = ref(bmc.host.chassisPath);
  return {
    "@odata.id": bmc.chassisPath,
    "@odata.type": "#Chassis.v1_25_0.Chassis",
    Id: bmc.ids.chassis,
    Name: dpu ? "Card1" : "Computer System Chassis",
    ChassisType: dpu ? "Card" : "RackMount",
    Manufacturer: dpu ? "Nvidia" : fh.hardware.manufacturer,
    Model: dpu ? (fh.dpu?.model ?? "") : fh.hardware.model,
    SerialNumber: dpu ? (fh.dpu?.serialNumber ?? "") : fh.serialNumber,
    PowerState: bmc.power,
    Status: stateOf(ctx, bmc),
    // A host whose DPU sits on the same BMC has its network functions on the card's chassis, as in the mockup.
    ...(!dpu && dpuOnSameBmc(bmc) ? {} : { NetworkAdapters: ref(`${bmc.chassisPath}/NetworkAdapters`) }),
    ...(bmc.dialect.logs === "dmtf" ? { LogServices: ref(`${bmc.chassisPath}/LogServices`) } : {}),
    Links: links,
  };
}

/** Whether a chassis serves NetworkAdapters (see chassis()). */
export const hasNetworkAdapters = (bmc: Bmc) => bmc.kind === "dpu" || !dpuOnSameBmc(bmc);

export function networkAdapters(bmc: Bmc): Json {
  const p = `${bmc.chassisPath}/NetworkAdapters`;
  return collection(p, "NetworkAdapterCollection", "Network Adapter Collection", [`${p}/${bmc.ids.adapter}`]);
}

export function networkAdapter(ctx: SimContext, bmc: Bmc): Json {
  const fh = ctx.engine.fleetHost(bmc);
  const p = `${bmc.chassisPath}/NetworkAdapters/${bmc.ids.adapter}`;
  const withDpu = bmc.kind === "dpu" || fh.dpu !== undefined;
  return {
    "@odata.id": p,
    "@odata.type": "#NetworkAdapter.v1_11_0.NetworkAdapter",
    Id: bmc.ids.adapter,
    Name: withDpu ? "BlueField DPU" : "Ethernet Adapter",
    Manufacturer: withDpu ? "Nvidia" : "Anvil Lab",
    Model: withDpu ? (fh.dpu?.model ?? "") : "Dual-port 25GbE",
    SerialNumber: fh.dpu?.serialNumber ?? fh.serialNumber,
    NetworkDeviceFunctions: ref(`${p}/NetworkDeviceFunctions`),
    Status: { State: "Enabled", Health: "OK" },
  };
}

export function networkDeviceFunctions(bmc: Bmc): Json {
  const p = `${bmc.chassisPath}/NetworkAdapters/${bmc.ids.adapter}/NetworkDeviceFunctions`;
  return collection(p, "NetworkDeviceFunctionCollection", "Network Device Function Collection", [`${p}/${bmc.ids.function}`]);
}

export function networkDeviceFunction(ctx: SimContext, bmc: Bmc): Json {
  const fh = ctx.engine.fleetHost(bmc);
  const p = functionPathOf(bmc);
  const mac = bmc.kind === "dpu" ? (fh.dpu?.oobMac ?? "") : fh.macs[0];
  const out: Json = {
    "@odata.id": p,
    "@odata.type": "#NetworkDeviceFunction.v1_9_0.NetworkDeviceFunction",
    Id: bmc.ids.function,
    Name: bmc.kind === "dpu" ? "Uplink p0" : "Host function 1",
    NetDevFuncType: "Ethernet",
    Ethernet: { MACAddress: mac, PermanentMACAddress: mac, MTUSize: 1500 },
    Status: { State: "Enabled", Health: "OK" },
  };
  // How a client discovers the DPU: the host's function is offloaded to the DPU system on the DPU's BMC; a DPU on
  // the host's BMC names itself on its card's function, by path.
  const dpu = bmc.dpu;
  if (dpu && dpu.endpoint !== bmc.endpoint)
    out.Links = { OffloadSystem: ref(dpu.cascaded ? `${cascadePathOf(dpu)}${dpu.systemPath}` : `${dpu.url}${dpu.systemPath}`) };
  if (bmc.kind === "dpu" && bmc.host?.endpoint === bmc.endpoint) out.Links = { OffloadSystem: ref(bmc.systemPath) };
  return out;
}

export function managers(endpoint: Bmc): Json {
  return collection("/redfish/v1/Managers", "ManagerCollection", "Manager Collection", [endpoint.managerPath]);
}

export function manager(endpoint: Bmc): Json {
  const d = endpoint.dialect;
  const out: Json = {
    "@odata.id": endpoint.managerPath,
    "@odata.type": "#Manager.v1_19_0.Manager",
    Id: endpoint.ids.manager,
    Name: endpoint.kind === "dpu" ? "BlueField BMC" : "Baseboard Management Controller",
    ManagerType: "BMC",
    UUID: uuidOf(endpoint),
    Model: endpoint.kind === "dpu" ? "OpenBMC" : "Anvil Lab BMC",
    FirmwareVersion: firmwareOf(endpoint).BMC_Firmware,
    DateTime: new Date().toISOString(),
    Status: { State: "Enabled", Health: "OK" },
    NetworkProtocol: ref(`${endpoint.managerPath}/NetworkProtocol`),
    Links: { ManagerForServers: endpoint.members.map((m) => ref(m.systemPath)), ManagerForChassis: endpoint.members.map((m) => ref(m.chassisPath)) },
  };
  if (d.console === "manager") {
    // DMTF public-rackmount1: the host console is advertised on the Manager only (the deprecated but common form).
    out.SerialConsole = { ServiceEnabled: true, MaxConcurrentSessions: 1, ConnectTypesSupported: ["Telnet", "SSH", "IPMI"] };
    out.CommandShell = { ServiceEnabled: true, MaxConcurrentSessions: 4, ConnectTypesSupported: ["Telnet", "SSH"] };
  }
  if (d.logs === "dmtf") out.LogServices = ref(`${endpoint.managerPath}/LogServices`);
  const oem = managerOem(endpoint);
  out.Actions = { Oem: oem.actions };
  out.Oem = { Anvil: oem.oem };
  return out;
}

/** ManagerNetworkProtocol: where SSH and IPMI listen (a Manager-advertised console is reached there). */
export function networkProtocol(endpoint: Bmc): Json {
  const d = endpoint.dialect;
  const tls = endpoint.url.startsWith("https:");
  const port = Number(new URL(endpoint.url).port) || (tls ? 443 : 80);
  return {
    "@odata.id": `${endpoint.managerPath}/NetworkProtocol`,
    "@odata.type": "#ManagerNetworkProtocol.v1_10_0.ManagerNetworkProtocol",
    Id: "NetworkProtocol",
    Name: "Manager Network Protocol",
    HTTP: { ProtocolEnabled: !tls, Port: tls ? null : port },
    HTTPS: { ProtocolEnabled: tls, Port: tls ? port : null },
    SSH: { ProtocolEnabled: d.console === "manager" || d.console === "system-ssh", Port: d.sshPort },
    IPMI: { ProtocolEnabled: d.console === "manager" || d.console === "system-ipmi", Port: d.ipmiPort },
  };
}

export function sessionService(): Json {
  return {
    "@odata.id": "/redfish/v1/SessionService",
    "@odata.type": "#SessionService.v1_1_9.SessionService",
    Id: "SessionService",
    Name: "Session Service",
    ServiceEnabled: true,
    SessionTimeout: 1800,
    Sessions: ref("/redfish/v1/SessionService/Sessions"),
  };
}

export function sessionJson(s: { id: string; user: string; created: string }): Json {
  return {
    "@odata.id": `/redfish/v1/SessionService/Sessions/${s.id}`,
    "@odata.type": "#Session.v1_7_1.Session",
    Id: s.id,
    Name: "User Session",
    UserName: s.user,
    Password: null,
    CreatedTime: s.created,
  };
}

export function eventService(bmc: Bmc): Json {
  return {
    "@odata.id": "/redfish/v1/EventService",
    "@odata.type": "#EventService.v1_10_2.EventService",
    Id: "EventService",
    Name: "Event Service",
    ServiceEnabled: true,
    DeliveryRetryAttempts: 0,
    DeliveryRetryIntervalSeconds: 0,
    EventFormatTypes: ["Event"],
    RegistryPrefixes: ["Base", "ResourceEvent", "Update", "AnvilSim"],
    ResourceTypes: ["ComputerSystem", "LogEntry", "Task"],
    ...(bmc.dialect.sse ? { ServerSentEventUri: "/redfish/v1/EventService/SSE" } : {}),
    SSEFilterPropertiesSupported: {
      EventType: false,
      MessageId: false,
      MetricReportDefinition: false,
      OriginResource: false,
      RegistryPrefix: false,
      ResourceType: false,
    },
    ...(bmc.dialect.subscriptions ? { Subscriptions: ref("/redfish/v1/EventService/Subscriptions") } : {}),
    Actions: { "#EventService.SubmitTestEvent": { target: "/redfish/v1/EventService/Actions/EventService.SubmitTestEvent" } },
  };
}

export function subscriptionJson(s: {
  id: string;
  destination: string;
  protocol: string;
  context: string | null;
  registryPrefixes: string[];
  resourceTypes: string[];
  eventFormatType: string;
}): Json {
  return {
    "@odata.id": `/redfish/v1/EventService/Subscriptions/${s.id}`,
    "@odata.type": "#EventDestination.v1_14_0.EventDestination",
    Id: s.id,
    Name: `Event Subscription ${s.id}`,
    Destination: s.destination,
    Protocol: s.protocol,
    Context: s.context,
    RegistryPrefixes: s.registryPrefixes,
    ResourceTypes: s.resourceTypes,
    EventFormatType: s.eventFormatType,
    SubscriptionType: "RedfishEvent",
    DeliveryRetryPolicy: "SuspendRetries",
  };
}

export function taskService(): Json {
  return {
    "@odata.id": "/redfish/v1/TaskService",
    "@odata.type": "#TaskService.v1_2_0.TaskService",
    Id: "TaskService",
    Name: "Task Service",
    ServiceEnabled: true,
    CompletedTaskOverWritePolicy: "Oldest",
    LifeCycleEventOnTaskStateChange: false,
    DateTime: new Date().toISOString(),
    Tasks: ref("/redfish/v1/TaskService/Tasks"),
  };
}

export const SIMPLE_UPDATE_TARGET = "/redfish/v1/UpdateService/Actions/UpdateService.SimpleUpdate";
export const TRANSFER_PROTOCOLS = ["HTTP", "HTTPS", "SCP", "SFTP", "TFTP", "NFS", "CIFS", "FTP"] as const;

export function updateService(): Json {
  return {
    "@odata.id": "/redfish/v1/UpdateService",
    "@odata.type": "#UpdateService.v1_14_0.UpdateService",
    Id: "UpdateService",
    Name: "Update Service",
    ServiceEnabled: true,
    FirmwareInventory: ref("/redfish/v1/UpdateService/FirmwareInventory"),
    Actions: {
      "#UpdateService.SimpleUpdate": { target: SIMPLE_UPDATE_TARGET, "TransferProtocol@Redfish.AllowableValues": TRANSFER_PROTOCOLS },
    },
  };
}

export function firmwareInventory(bmc: Bmc): Json {
  const p = "/redfish/v1/UpdateService/FirmwareInventory";
  return collection(
    p,
    "SoftwareInventoryCollection",
    "Firmware Inventory Collection",
    Object.keys(firmwareOf(bmc)).map((k) => `${p}/${k}`),
  );
}

export function firmwareItem(bmc: Bmc, id: string): Json | undefined {
  const v = firmwareOf(bmc)[id];
  if (v === undefined) return undefined;
  return {
    "@odata.id": `/redfish/v1/UpdateService/FirmwareInventory/${id}`,
    "@odata.type": "#SoftwareInventory.v1_10_0.SoftwareInventory",
    Id: id,
    Name: id.replace(/_/g, " "),
    Version: v,
    Updateable: true,
    SoftwareId: id,
    Status: { State: "Enabled", Health: "OK" },
  };
}
