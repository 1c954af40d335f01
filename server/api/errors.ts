// Turns database and validation failures into errors a person can act on (never a bare 500).
import { TRPCError } from "@trpc/server";

/** A field-level problem the form can show next to the field. */
export function fieldError(field: string, message: string, code: TRPCError["code"] = "CONFLICT"): TRPCError {
  return new TRPCError({ code, message, cause: new FieldErrorCause(field, message) });
}

export class FieldErrorCause extends Error {
  constructor(
    public field: string,
    message: string,
  ) {
    super(message);
    this.name = "FieldErrorCause";
  }
}

interface PgError {
  code?: string;
  constraint?: string;
  detail?: string;
}

function pgErrorOf(e: unknown): PgError | undefined {
  let cur: unknown = e;
  for (let i = 0; i < 5 && cur; i++) {
    const c = cur as PgError & { cause?: unknown };
    if (typeof c.code === "string" && /^[0-9A-Z]{5}$/.test(c.code)) return c;
    cur = c.cause;
  }
  return undefined;
}

/**
 * Maps a Postgres error to a TRPCError. `uniques` names, per unique constraint, the field and message
 * to show (e.g. pools_name_uq → name: "A pool with this name already exists").
 */
export function mapDbError(e: unknown, uniques: Record<string, { field: string; message: string }> = {}): unknown {
  if (e instanceof TRPCError) return e;
  const pg = pgErrorOf(e);
  if (!pg) return e;
  if (pg.code === "23505") {
    const u = pg.constraint ? uniques[pg.constraint] : undefined;
    if (u) return fieldError(u.field, u.message);
    return new TRPCError({ code: "CONFLICT", message: "That would duplicate an existing record." });
  }
  if (pg.code === "23503")
    return new TRPCError({ code: "CONFLICT", message: "Other records still depend on this one; remove them first." });
  if (pg.code === "23514" || pg.code === "23P01")
    return new TRPCError({ code: "CONFLICT", message: `The change breaks a rule of the data (${pg.constraint ?? "constraint"}).` });
  if (pg.code?.startsWith("22")) return new TRPCError({ code: "BAD_REQUEST", message: "A value is out of range or malformed." });
  if (pg.code === "40001" || pg.code === "40P01")
    return new TRPCError({ code: "CONFLICT", message: "Another change happened at the same time; try again." });
  return e;
}
