// The application router: one sub-router per resource (server/api/routers/<resource>.ts).
import { auditRouter } from "./routers/audit";
import { poolsRouter } from "./routers/pools";
import { sessionRouter } from "./routers/session";
import { createCallerFactory, createTRPCRouter } from "./trpc";

export const appRouter = createTRPCRouter({
  session: sessionRouter,
  pools: poolsRouter,
  audit: auditRouter,
});

export type AppRouter = typeof appRouter;
export const createCaller = createCallerFactory(appRouter);
