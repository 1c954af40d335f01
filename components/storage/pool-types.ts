// The storage service's pool shapes as the storage overview returns them (components import only the router type
// from the server).
import type { inferRouterOutputs } from "@trpc/server";
import type { AppRouter } from "@/server/api/root";

type Overview = inferRouterOutputs<AppRouter>["storage"]["overview"];
export type DiskPool = Overview["diskPools"][number];
export type LogicalPool = Overview["logicalPools"][number];
export type Redundancy = LogicalPool["redundancy"];
