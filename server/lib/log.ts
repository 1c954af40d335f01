// Structured logging (pino). One logger for the process; children add context.
import pino from "pino";

const g = globalThis as unknown as { __anvilLog?: pino.Logger };
g.__anvilLog ??= pino({
  level: process.env.LOG_LEVEL ?? (process.env.NODE_ENV === "test" ? "warn" : "info"),
  base: undefined,
});
export const logger = g.__anvilLog;
