// Operator recovery of instances whose host failed. Spread into the instances router (instances.<name>).
export const instanceRecoveryProcedures = {};
