// The signed-in user's own settings (password and two-factor, sessions, API tokens, invitations to tenants), for
// operators and tenant users alike.
import { redirect } from "next/navigation";
import { Shell } from "@/components/shell/shell";
import { getViewer, homeOf } from "@/server/auth/session";

export default async function AccountLayout({ children }: { children: React.ReactNode }) {
  const v = await getViewer();
  if (!v) redirect("/login?next=/account/tokens");
  const role = v.platformRole === "operator-admin" ? "Operator admin" : v.platformRole === "operator-viewer" ? "Operator viewer" : "Tenant user";
  const nav = [
    { href: homeOf(v), label: "← Back to console", exact: true },
    { href: "/account/security", label: "Security" },
    { href: "/account/sessions", label: "Sessions" },
    { href: "/account/tokens", label: "API tokens" },
    { href: "/account/invitations", label: "Invitations" },
  ];
  return (
    <Shell area="Your account" nav={nav} user={{ name: v.name, email: v.email, role }}>
      {children}
    </Shell>
  );
}
