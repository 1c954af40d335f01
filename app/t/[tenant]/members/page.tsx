// Tenant portal: members of this tenant. Everyone sees the list; tenant admins invite, re-role and remove, and see
// and revoke pending invitations (others see those controls disabled with the reason).
import { MembersPanel } from "@/components/tenancy/members-panel";
import { PageHeader } from "@/components/ui/page";
import { reasonOf, tenantCan } from "@/domain/roles";
import { membershipOf } from "../membership";

export const metadata = { title: "Members" };

export default async function Page({ params }: { params: Promise<{ tenant: string }> }) {
  const m = await membershipOf(params);
  return (
    <div>
      <PageHeader title="Members" description={`People who can use ${m.name}. Tenant admins manage members; members use resources.`} />
      <MembersPanel scope={{ kind: "tenant", slug: m.slug }} canManage={reasonOf(tenantCan.manage(m.role))} tenantName={m.name} />
    </div>
  );
}
