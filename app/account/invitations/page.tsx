// The signed-in user's pending invitations to join tenants: accept (they land in that tenant) or decline.
import { MyInvitations } from "@/components/tenancy/invitations-panel";
import { EmptyState, PageHeader } from "@/components/ui/page";

export const metadata = { title: "Invitations" };

export default function Page() {
  return (
    <div className="flex flex-col gap-4">
      <PageHeader title="Invitations" description="Tenants whose admins invited you. You join a tenant only when you accept." />
      <MyInvitations empty={<EmptyState title="No pending invitations" body="When a tenant admin invites your address, the invitation shows here." />} />
    </div>
  );
}
