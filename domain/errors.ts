// The errors services and rules throw when a request cannot be done, by kind — not by transport. The API edge maps each
// kind to its tRPC code in one place (server/api/errors.ts toTrpcError): not_found → NOT_FOUND, conflict → CONFLICT,
// precondition → PRECONDITION_FAILED, forbidden → FORBIDDEN, invalid → BAD_REQUEST; with a `field`, the form shows the
// message next to that field. Recognised by brand, not `instanceof` (the custom server and Next's bundles each load
// their own copy of a module; a Symbol.for() key is one per process — the same scheme as server/lib/brand.ts).

export type DomainErrorKind = "not_found" | "conflict" | "precondition" | "forbidden" | "invalid";

const BRAND = Symbol.for("anvil.error.DomainError");

export class DomainError extends Error {
  constructor(
    public readonly kind: DomainErrorKind,
    message: string,
    /** The input field the message belongs to, when there is one. */
    public readonly field?: string,
  ) {
    super(message);
    this.name = "DomainError";
    Object.defineProperty(this, BRAND, { value: true, enumerable: false });
  }
}

export function isDomainError(e: unknown): e is DomainError {
  return typeof e === "object" && e !== null && (e as Record<symbol, unknown>)[BRAND] === true;
}

export const notFound = (message: string) => new DomainError("not_found", message);
export const conflict = (message: string, field?: string) => new DomainError("conflict", message, field);
export const precondition = (message: string, field?: string) => new DomainError("precondition", message, field);
export const forbidden = (message: string) => new DomainError("forbidden", message);
export const invalid = (message: string, field?: string) => new DomainError("invalid", message, field);
