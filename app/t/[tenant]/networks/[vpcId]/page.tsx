// Tenant portal: one VPC with its subnets and ports. A VPC that is not this tenant's (or a malformed id) is the
// not-found page, exactly like one that does not exist.
import { VpcDetail } from "@/components/network/vpc-detail";
import { vpcs } from "@/db/schema";
import { membershipOf, tenantRowId } from "../../membership";

export const metadata = { title: "VPC" };

export default async function Page({ params }: { params: Promise<{ tenant: string; vpcId: string }> }) {
  const m = await membershipOf(params);
  return <VpcDetail tenant={m.slug} vpcId={await tenantRowId(vpcs, m, (await params).vpcId)} />;
}
