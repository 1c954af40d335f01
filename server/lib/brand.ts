// Brands for our error classes, so they are recognised by a type guard instead of `instanceof`. The custom server
// (tsx) and Next's route bundles each load their own copy of a module: an error thrown through an object shared on
// globalThis (the storage client, cached BMC drivers, the engine) is an instance of the other copy's class, and
// `instanceof` says no. A Symbol.for() key is one symbol per process, whichever copy asks for it.

/** The process-wide brand symbol of an error class name (e.g. "StorageError"). */
export function errorBrand(name: string): symbol {
  return Symbol.for(`anvil.error.${name}`);
}

/** Marks an object with a brand (non-enumerable: logs and JSON are unchanged). */
export function setBrand(obj: object, brand: symbol): void {
  Object.defineProperty(obj, brand, { value: true, enumerable: false });
}

export function hasBrand(e: unknown, brand: symbol): boolean {
  return typeof e === "object" && e !== null && (e as Record<symbol, unknown>)[brand] === true;
}
