// Tenant portal: one security group and its rules editor. Another tenant's group (or a malformed id) is the
// not-found page, exactly like one that does not exist.
import { SecurityGroupDetail } from "@/components/network/security-group-detail";
import { securityGroups } from "@/db/schema";
import { membershipOf, tenantRowId } from "../../membership";

export const metadata = { title: "Security group" };

export default async function Page({ params }: { params: Promise<{ tenant: string; groupId: string }> }) {
  const m = await membershipOf(params);
  return <SecurityGroupDetail tenant={m.slug} groupId={await tenantRowId(securityGroups, m, (await params).groupId)} />;
}
