// Errors the agent returns to its callers. Every failure the REST API reports is an AgentError, so the
// HTTP layer can turn it into `{error:{code,message,field}}` with the right status without guessing.
import type { z } from "zod";

export class AgentError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly field?: string,
  ) {
    super(message);
    this.name = "AgentError";
  }

  toBody(): { error: { code: string; message: string; field?: string } } {
    return { error: { code: this.code, message: this.message, ...(this.field ? { field: this.field } : {}) } };
  }
}

export const notFound = (what: string, name: string) => new AgentError(404, "not_found", `${what} "${name}" does not exist`);

export const conflict = (code: string, message: string, field?: string) => new AgentError(409, code, message, field);

export const invalid = (message: string, field?: string, code = "invalid_request") => new AgentError(422, code, message, field);

/** Turns the first zod issue into a 422 naming the offending field (dotted path, array indexes in brackets). */
export function fromZodError(err: z.ZodError, prefix?: string): AgentError {
  const issue = err.issues[0];
  const path = [...(prefix ? [prefix] : []), ...(issue?.path ?? [])].reduce<string>((acc, part) => {
    if (typeof part === "number") return `${acc}[${part}]`;
    return acc ? `${acc}.${String(part)}` : String(part);
  }, "");
  // Custom refinements (rules.ts, schemas.ts) carry a specific code, e.g. rule_overlap; the rest are plain invalid input.
  const custom = issue && issue.code === "custom" ? (issue.params as { agentCode?: string } | undefined)?.agentCode : undefined;
  return new AgentError(422, custom ?? "invalid_request", `${path ? `${path}: ` : ""}${issue?.message ?? "invalid input"}`, path || undefined);
}

/** Errors a backend raises (SPDK, OVS, storage, injected faults); status defaults to 502 (a dependency failed). */
export class BackendError extends AgentError {
  constructor(code: string, message: string, status = 502) {
    super(status, code, message);
    this.name = "BackendError";
  }
}
