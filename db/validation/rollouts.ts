// Rolling DPU OS update shapes (the rollouts router's input and the start form's resolver).
import { z } from "zod";
import { instancePolicies } from "@/db/schema/rollouts";

/** Start a rollout over a pool's hosts or a selection of hosts (exactly one of the two). */
export const rolloutStartSchema = z
  .object({
    imageUri: z
      .url("Enter the DPU OS image's URL (http, https)")
      .max(2000)
      .refine((u) => /^https?:\/\//i.test(u), "The DPU's BMC downloads the image over http:// or https://."),
    maxUnavailable: z.number().int("A whole number of hosts").min(1, "At least 1 host at a time").max(100, "At most 100 hosts at a time"),
    instancePolicy: z.enum(instancePolicies),
    poolId: z.uuid().optional(),
    hostIds: z.array(z.uuid()).min(1, "Select at least one host").max(1000, "At most 1000 hosts").optional(),
  })
  .strict()
  .refine((v) => !!v.poolId !== !!v.hostIds, { path: ["poolId"], message: "Choose a pool or a selection of hosts (one of the two)." });
export type RolloutStartInput = z.infer<typeof rolloutStartSchema>;
