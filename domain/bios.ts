// BIOS attributes as a BMC's attribute registry declares them (Redfish AttributeRegistry RegistryEntries.Attributes),
// and the check of a requested change against it. Client-safe: the edit dialog shows the same limits the router and
// the driver enforce, so an unknown attribute or a bad value is a field error before anything reaches the BMC.

export type BiosValue = string | number | boolean;

/** One attribute of the registry, reduced to what a check and an editor need. */
export interface BiosAttributeDef {
  name: string;
  displayName: string;
  type: "Enumeration" | "String" | "Integer" | "Boolean";
  readOnly: boolean;
  /** Enumeration: the allowed ValueNames. */
  values?: string[];
  /** Integer: inclusive bounds. */
  lowerBound?: number;
  upperBound?: number;
  /** String: length limits. */
  minLength?: number;
  maxLength?: number;
}

/** What a BMC reports: the attributes in effect, the ones waiting for the next reboot, and the registry. */
export interface BiosSettings {
  current: Record<string, BiosValue>;
  /** Only the attributes whose pending value differs from (or is not yet) current; empty: nothing pending. */
  pending: Record<string, BiosValue>;
  /** null: the BMC serves no attribute registry (then only the BMC checks a change). */
  registry: BiosAttributeDef[] | null;
}

/** A refused attribute: its name (the form field) and why. */
export interface BiosAttributeProblem {
  name: string;
  message: string;
}

function checkOne(def: BiosAttributeDef | undefined, name: string, value: unknown): string | null {
  if (!def) return `The BMC's attribute registry has no BIOS attribute "${name}".`;
  if (def.readOnly) return `${def.displayName} is read-only.`;
  switch (def.type) {
    case "Enumeration":
      if (typeof value !== "string" || !(def.values ?? []).includes(value)) return `${def.displayName} must be one of ${(def.values ?? []).join(", ")}.`;
      return null;
    case "Boolean":
      return typeof value === "boolean" ? null : `${def.displayName} must be true or false.`;
    case "Integer":
      if (typeof value !== "number" || !Number.isInteger(value)) return `${def.displayName} must be a whole number.`;
      if ((def.lowerBound !== undefined && value < def.lowerBound) || (def.upperBound !== undefined && value > def.upperBound))
        return `${def.displayName} must be from ${def.lowerBound ?? "-∞"} to ${def.upperBound ?? "∞"}.`;
      return null;
    case "String":
      if (typeof value !== "string") return `${def.displayName} must be text.`;
      if (def.minLength !== undefined && value.length < def.minLength) return `${def.displayName} needs at least ${def.minLength} characters.`;
      if (def.maxLength !== undefined && value.length > def.maxLength) return `${def.displayName} takes at most ${def.maxLength} characters.`;
      return null;
  }
}

/** Every problem with a requested change (empty: the registry allows all of it). An empty change is a problem too. */
export function checkBiosAttributes(registry: BiosAttributeDef[], attrs: Record<string, unknown>): BiosAttributeProblem[] {
  const byName = new Map(registry.map((d) => [d.name, d]));
  const names = Object.keys(attrs);
  if (names.length === 0) return [{ name: "", message: "Change at least one BIOS attribute." }];
  const out: BiosAttributeProblem[] = [];
  for (const name of names) {
    const message = checkOne(byName.get(name), name, attrs[name]);
    if (message) out.push({ name, message });
  }
  return out;
}
