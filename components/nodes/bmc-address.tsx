// Where a node's BMC is reached, as the node page and lists show it: its own address, or — for a DPU behind a BMC
// cascade, which has no management address of its own — "via host BMC <host>" (the proxy path in the tooltip).
export function BmcAddress({ node, hostName }: { node: { bmcAccess: "direct" | "cascade"; bmcAddress: string }; hostName: string | null | undefined }) {
  if (node.bmcAccess === "cascade") return <span title={node.bmcAddress}>via host BMC {hostName ?? "of its host"}</span>;
  return <code className="text-xs">{node.bmcAddress}</code>;
}
