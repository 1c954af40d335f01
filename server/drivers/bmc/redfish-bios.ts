// BIOS settings over Redfish (DSP0268 Bios, Settings annotation, AttributeRegistry): the system's Bios link gives
// the attributes in effect; its @Redfish.Settings.SettingsObject is where changes are PATCHed and wait for the next
// reboot; the attribute registry it names is found through /redfish/v1/Registries (MessageRegistryFile Location).
// A change is checked against that registry before anything is sent, so an unknown attribute or a bad value is
// refused with the registry's own limits and the BMC is left as it was.
import { type BiosAttributeDef, type BiosSettings, type BiosValue, checkBiosAttributes } from "@/domain/bios";
import type { Json, RedfishResponse } from "./redfish-http";
import { BmcError, type BmcBios } from "./types";

/** What the BIOS code needs of the driver: one call budget per operation, the system, and plain requests. */
export interface BiosAccess {
  address: string;
  /** Starts one operation (one deadline) and gives its request functions. */
  begin(): {
    system(): Promise<Json>;
    root(): Promise<Json>;
    get(path: string, what: string, allow?: number[]): Promise<RedfishResponse>;
    patch(path: string, body: Json, what: string, etag?: string): Promise<RedfishResponse>;
    members(path: string, what: string): Promise<string[]>;
  };
}

const ref = (v: unknown): string | undefined => {
  const id = (v as { "@odata.id"?: unknown } | null | undefined)?.["@odata.id"];
  return typeof id === "string" ? id : undefined;
};
const isObj = (v: unknown): v is Json => typeof v === "object" && v !== null && !Array.isArray(v);
const num = (v: unknown) => (typeof v === "number" && Number.isFinite(v) ? v : undefined);

function valueMap(v: unknown): Record<string, BiosValue> {
  const out: Record<string, BiosValue> = {};
  if (!isObj(v)) return out;
  for (const [k, x] of Object.entries(v)) if (typeof x === "string" || typeof x === "number" || typeof x === "boolean") out[k] = x;
  return out;
}

/** RegistryEntries.Attributes in Anvil's terms. Types Anvil does not edit (Password) are kept, read-only, so a change
 *  to one is refused as read-only rather than as unknown. */
export function parseAttributeRegistry(reg: Json): BiosAttributeDef[] {
  const entries = isObj(reg.RegistryEntries) && Array.isArray(reg.RegistryEntries.Attributes) ? reg.RegistryEntries.Attributes : [];
  const out: BiosAttributeDef[] = [];
  for (const a of entries) {
    if (!isObj(a) || typeof a.AttributeName !== "string") continue;
    const known = a.Type === "Enumeration" || a.Type === "String" || a.Type === "Integer" || a.Type === "Boolean";
    out.push({
      name: a.AttributeName,
      displayName: typeof a.DisplayName === "string" && a.DisplayName ? a.DisplayName : a.AttributeName,
      type: known ? (a.Type as BiosAttributeDef["type"]) : "String",
      readOnly: a.ReadOnly === true || a.Immutable === true || !known,
      ...(a.Type === "Enumeration"
        ? { values: (Array.isArray(a.Value) ? a.Value : []).map((x) => (isObj(x) ? x.ValueName : undefined)).filter((x): x is string => typeof x === "string") }
        : {}),
      ...(num(a.LowerBound) !== undefined ? { lowerBound: num(a.LowerBound) } : {}),
      ...(num(a.UpperBound) !== undefined ? { upperBound: num(a.UpperBound) } : {}),
      ...(num(a.MinLength) !== undefined ? { minLength: num(a.MinLength) } : {}),
      ...(num(a.MaxLength) !== undefined ? { maxLength: num(a.MaxLength) } : {}),
    });
  }
  return out;
}

/** Pending = what the settings object holds that differs from what is in effect (BMCs list either every attribute
 *  or only the changed ones there). */
export function pendingOf(current: Record<string, BiosValue>, settings: Record<string, BiosValue>): Record<string, BiosValue> {
  return Object.fromEntries(Object.entries(settings).filter(([k, v]) => current[k] !== v));
}

export function redfishBios(access: BiosAccess): BmcBios {
  const address = access.address;

  async function read(op: ReturnType<BiosAccess["begin"]>) {
    const sys = await op.system();
    const biosRef = ref(sys.Bios);
    if (!biosRef) throw new BmcError("unsupported", address, `BMC ${address} offers no BIOS settings (no Bios link on its system)`, { transient: false });
    const bios = (await op.get(biosRef, "read the BIOS settings")).json ?? {};
    const settingsRef = ref(isObj(bios["@Redfish.Settings"]) ? bios["@Redfish.Settings"].SettingsObject : undefined);
    return { bios, biosRef, settingsRef };
  }

  /** The registry the Bios resource names, or null when the BMC does not serve it (then the BMC alone checks values). */
  async function registry(op: ReturnType<BiosAccess["begin"]>, name: unknown): Promise<BiosAttributeDef[] | null> {
    if (typeof name !== "string" || !name) return null;
    const filesRef = ref((await op.root()).Registries);
    if (!filesRef) return null;
    const files = await op.members(filesRef, "list the registries");
    // Registry file ids are the registry's name; some BMCs add a language or version suffix to the member path.
    const candidates = [...files.filter((f) => f.split("/").pop() === name), ...files.filter((f) => f.split("/").pop() !== name)];
    for (const path of candidates) {
      const file = (await op.get(path, "read a registry file", [404])).json;
      if (!file || (file.Id !== name && file.Registry !== name)) continue;
      const locations = Array.isArray(file.Location) ? file.Location.filter(isObj) : [];
      const loc = locations.find((l) => l.Language === "en") ?? locations[0];
      const uri = typeof loc?.Uri === "string" ? loc.Uri : undefined;
      if (!uri) return null;
      const reg = (await op.get(uri, "read the BIOS attribute registry", [404])).json;
      return reg ? parseAttributeRegistry(reg) : null;
    }
    return null;
  }

  return {
    async get(): Promise<BiosSettings> {
      const op = access.begin();
      const { bios, settingsRef } = await read(op);
      const current = valueMap(bios.Attributes);
      const settings = settingsRef ? valueMap((await op.get(settingsRef, "read the pending BIOS settings", [404])).json?.Attributes) : {};
      return { current, pending: pendingOf(current, settings), registry: await registry(op, bios.AttributeRegistry) };
    },

    async set(attrs: Record<string, BiosValue>): Promise<void> {
      const op = access.begin();
      const { bios, biosRef, settingsRef } = await read(op);
      const reg = await registry(op, bios.AttributeRegistry);
      if (reg) {
        const problems = checkBiosAttributes(reg, attrs);
        if (problems.length)
          throw new BmcError("invalid", address, problems.map((p) => (p.name ? `${p.name}: ${p.message}` : p.message)).join(" "), { transient: false });
      }
      // Without a settings object the BMC takes changes on the Bios resource itself (still applied at reset).
      const target = settingsRef ?? biosRef;
      const etag = settingsRef ? (await op.get(settingsRef, "read the pending BIOS settings", [404])).headers.etag : undefined;
      await op.patch(target, { Attributes: attrs }, `set BIOS attributes ${Object.keys(attrs).join(", ")}`, etag);
    },
  };
}
