// The steps each instance workflow shows on its operation, in order, declared once: routers list them up front
// when they create the operation (so the tenant sees what will happen), the workflows mark them as they go (and add
// rollback steps only when they need them).

export const CREATE_STEPS = [
  "reserve node",
  "allocate address",
  "clone system volume",
  "render cloud-init",
  "export target",
  "attach boot disk",
  "attach cloud-init seed",
  "create NIC with rules",
  "attach data volumes",
  "boot override to disk",
  "power on",
  "wait for OS",
  "mark running",
] as const;

export const DELETE_STEPS = ["power off", "detach from DPU", "delete exports and system volume", "release address and port", "clean node", "mark deleted"] as const;

export const RECOVER_STEPS = [
  "fence old host",
  "detach from old DPU",
  "reserve spare host",
  "allocate address",
  "render cloud-init",
  "clone system volume",
  "export target",
  "attach boot disk",
  "attach cloud-init seed",
  "create NIC with rules",
  "attach data volumes",
  "boot override to disk",
  "power on",
  "wait for OS",
  "mark running",
] as const;
