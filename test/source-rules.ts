// Test helper: security-group source rules for the rule compiler's tests, written as only what differs from an
// IPv4 "any protocol, any port, no remote" rule; each gets a fresh id.
import type { SourceRule } from "../server/domain/rule-compiler";

let n = 0;
export const sourceRule = (r: Partial<SourceRule> & Pick<SourceRule, "direction">): SourceRule => ({
  id: `r${++n}`,
  ethertype: "ipv4",
  protocol: "any",
  portMin: null,
  portMax: null,
  remoteCidr: null,
  remoteGroupId: null,
  ...r,
});
