// BIOS settings of a simulated host (DSP0268 Bios, Settings, AttributeRegistry): Systems/<id>/Bios shows the
// attributes in effect with @Redfish.Settings pointing at Bios/Settings, where a PATCH stores pending attributes
// (checked against the attribute registry the BMC serves under /redfish/v1/Registries); the engine applies them
// when the firmware next starts (power-on or reboot), as a real BIOS reads its settings only at POST.

import { Msg, RedfishError } from "./errors";
import type { Bmc } from "./model";

type Json = Record<string, unknown>;
type Value = string | number | boolean;

export const BIOS_REGISTRY = "AnvilBiosAttributeRegistry.v1_0_0";

interface AttributeDef {
  AttributeName: string;
  DisplayName: string;
  HelpText: string;
  Type: "Enumeration" | "String" | "Integer" | "Boolean";
  ReadOnly: boolean;
  DefaultValue: Value;
  Value?: { ValueName: string; ValueDisplayName: string }[];
  LowerBound?: number;
  UpperBound?: number;
  MinLength?: number;
  MaxLength?: number;
}

const onOff = [
  { ValueName: "Enabled", ValueDisplayName: "Enabled" },
  { ValueName: "Disabled", ValueDisplayName: "Disabled" },
];

/** A small registry in the shape of a server vendor's: enumerations, an integer, a string, a boolean, a read-only one. */
const ATTRIBUTES: AttributeDef[] = [
  {
    AttributeName: "BootMode",
    DisplayName: "Boot Mode",
    HelpText: "UEFI or legacy BIOS boot.",
    Type: "Enumeration",
    ReadOnly: false,
    DefaultValue: "Uefi",
    Value: [
      { ValueName: "Uefi", ValueDisplayName: "UEFI" },
      { ValueName: "Bios", ValueDisplayName: "Legacy BIOS" },
    ],
  },
  {
    AttributeName: "ProcVirtualization",
    DisplayName: "Virtualization Technology",
    HelpText: "CPU hardware virtualization (VT-x/AMD-V).",
    Type: "Enumeration",
    ReadOnly: false,
    DefaultValue: "Enabled",
    Value: onOff,
  },
  {
    AttributeName: "SriovGlobalEnable",
    DisplayName: "SR-IOV Global Enable",
    HelpText: "",
    Type: "Enumeration",
    ReadOnly: false,
    DefaultValue: "Disabled",
    Value: onOff,
  },
  {
    AttributeName: "SysProfile",
    DisplayName: "System Profile",
    HelpText: "Power and performance profile.",
    Type: "Enumeration",
    ReadOnly: false,
    DefaultValue: "PerfPerWattOptimizedOs",
    Value: [
      { ValueName: "PerfOptimized", ValueDisplayName: "Performance" },
      { ValueName: "PerfPerWattOptimizedOs", ValueDisplayName: "Performance per Watt (OS)" },
      { ValueName: "Custom", ValueDisplayName: "Custom" },
    ],
  },
  {
    AttributeName: "PxeRetryCount",
    DisplayName: "PXE Retry Count",
    HelpText: "",
    Type: "Integer",
    ReadOnly: false,
    DefaultValue: 3,
    LowerBound: 0,
    UpperBound: 10,
  },
  { AttributeName: "AcPwrRcvry", DisplayName: "Power On After AC Loss", HelpText: "", Type: "Boolean", ReadOnly: false, DefaultValue: true },
  {
    AttributeName: "OemBanner",
    DisplayName: "Boot Banner",
    HelpText: "Text shown at POST.",
    Type: "String",
    ReadOnly: false,
    DefaultValue: "",
    MinLength: 0,
    MaxLength: 32,
  },
  { AttributeName: "SystemMemorySize", DisplayName: "System Memory Size", HelpText: "", Type: "String", ReadOnly: true, DefaultValue: "512 GB" },
];

/** Only hosts have a BIOS here (a BlueField's UEFI is not configured through its BMC in the lab). */
export const hasBios = (bmc: Bmc) => bmc.kind === "host";

function attributesOf(bmc: Bmc): Record<string, Value> {
  bmc.bios ??= Object.fromEntries(ATTRIBUTES.map((a) => [a.AttributeName, a.DefaultValue]));
  return bmc.bios;
}

/** Pending settings take effect when the firmware starts; returns the names applied (none: nothing was pending). */
export function applyPendingBios(bmc: Bmc): string[] {
  const pending = bmc.biosPending;
  if (!pending) return [];
  bmc.bios = { ...attributesOf(bmc), ...pending };
  bmc.biosPending = undefined;
  bmc.biosAppliedAt = new Date().toISOString();
  return Object.keys(pending);
}

export function bios(bmc: Bmc): Json {
  const path = `${bmc.systemPath}/Bios`;
  return {
    "@odata.id": path,
    "@odata.type": "#Bios.v1_2_1.Bios",
    Id: "Bios",
    Name: "BIOS Configuration Current Settings",
    AttributeRegistry: BIOS_REGISTRY,
    Attributes: attributesOf(bmc),
    "@Redfish.Settings": {
      "@odata.type": "#Settings.v1_4_0.Settings",
      SettingsObject: { "@odata.id": `${path}/Settings` },
      SupportedApplyTimes: ["OnReset"],
      ...(bmc.biosAppliedAt ? { Time: bmc.biosAppliedAt } : {}),
    },
  };
}

/** The pending settings object: every attribute as it will be after the next reset. */
export function biosSettings(bmc: Bmc): Json {
  return {
    "@odata.id": `${bmc.systemPath}/Bios/Settings`,
    "@odata.type": "#Bios.v1_2_1.Bios",
    Id: "Settings",
    Name: "BIOS Configuration Pending Settings",
    AttributeRegistry: BIOS_REGISTRY,
    Attributes: { ...attributesOf(bmc), ...bmc.biosPending },
  };
}

function checkValue(def: AttributeDef, v: unknown): boolean {
  switch (def.Type) {
    case "Enumeration":
      return typeof v === "string" && (def.Value ?? []).some((x) => x.ValueName === v);
    case "Boolean":
      return typeof v === "boolean";
    case "Integer":
      return typeof v === "number" && Number.isInteger(v) && v >= (def.LowerBound ?? -Infinity) && v <= (def.UpperBound ?? Infinity);
    case "String":
      return typeof v === "string" && v.length >= (def.MinLength ?? 0) && v.length <= (def.MaxLength ?? Infinity);
  }
}

/** PATCH Bios/Settings {Attributes}: all or nothing — one bad attribute refuses the whole request (400). */
export function patchBiosSettings(bmc: Bmc, body: Json): void {
  const errors = [];
  for (const k of Object.keys(body)) {
    if (k !== "Attributes" && !k.startsWith("@")) errors.push(Msg.propertyUnknown(k, `#/${k}`));
  }
  const attrs = body.Attributes;
  if (typeof attrs !== "object" || attrs === null || Array.isArray(attrs)) {
    errors.push(attrs === undefined ? Msg.propertyMissing("Attributes") : Msg.propertyValueTypeError(attrs, "Attributes", "#/Attributes"));
    throw new RedfishError(400, errors);
  }
  for (const [name, v] of Object.entries(attrs as Json)) {
    const ptr = `#/Attributes/${name}`;
    const def = ATTRIBUTES.find((a) => a.AttributeName === name);
    if (!def) errors.push(Msg.propertyUnknown(name, ptr));
    else if (def.ReadOnly) errors.push(Msg.propertyNotWritable(name, ptr));
    else if (!checkValue(def, v)) errors.push(def.Type === "Enumeration" ? Msg.propertyValueNotInList(v, name, ptr) : Msg.propertyValueTypeError(v, name, ptr));
  }
  if (errors.length) throw new RedfishError(400, errors);
  const current = attributesOf(bmc);
  const pending = { ...bmc.biosPending, ...(attrs as Record<string, Value>) };
  // Setting an attribute back to the value in effect leaves nothing to apply for it.
  for (const [k, v] of Object.entries(pending)) if (current[k] === v) delete pending[k];
  bmc.biosPending = Object.keys(pending).length ? pending : undefined;
}

/** /redfish/v1/Registries: the BIOS attribute registry, where this BMC serves a host. */
export function registries(endpoint: Bmc): Json {
  const members = endpoint.members.some(hasBios) ? [{ "@odata.id": `/redfish/v1/Registries/${BIOS_REGISTRY}` }] : [];
  return {
    "@odata.id": "/redfish/v1/Registries",
    "@odata.type": "#MessageRegistryFileCollection.MessageRegistryFileCollection",
    Name: "Registry File Collection",
    Members: members,
    "Members@odata.count": members.length,
  };
}

export function registryFile(endpoint: Bmc, id: string): Json | undefined {
  if (id !== BIOS_REGISTRY || !endpoint.members.some(hasBios)) return undefined;
  return {
    "@odata.id": `/redfish/v1/Registries/${id}`,
    "@odata.type": "#MessageRegistryFile.v1_1_3.MessageRegistryFile",
    Id: id,
    Name: "BIOS Attribute Registry File",
    Registry: "AnvilBiosAttributeRegistry.1.0.0",
    Languages: ["en"],
    Location: [{ Language: "en", Uri: `/redfish/v1/Registries/${id}/${id}.json` }],
  };
}

export function attributeRegistry(endpoint: Bmc, id: string, file: string): Json | undefined {
  if (!registryFile(endpoint, id) || file !== `${id}.json`) return undefined;
  return {
    "@odata.type": "#AttributeRegistry.v1_3_8.AttributeRegistry",
    Id: id,
    Name: "Anvil Lab BIOS Attribute Registry",
    Language: "en",
    RegistryVersion: "1.0.0",
    OwningEntity: "Anvil Lab",
    RegistryEntries: { Attributes: ATTRIBUTES },
  };
}
