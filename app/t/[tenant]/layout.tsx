// Tenant portal shell for /t/<tenant>/…; a tenant the user is not a member of is not found.
import { notFound, redirect } from "next/navigation";
import { Shell, TenantSwitcher } from "@/components/shell/shell";
import { InvitationsNotice } from "@/components/tenancy/invitations-panel";
import { getViewer } from "@/server/auth/session";

export default async function TenantLayout({ children, params }: { children: React.ReactNode; params: Promise<{ tenant: string }> }) {
  const { tenant } = await params;
  const v = await getViewer();
  if (!v) redirect(`/login?next=/t/${encodeURIComponent(tenant)}`);
  const m = v.tenants.find((t) => t.slug === tenant);
  if (!m) notFound();
  const base = `/t/${m.slug}`;
  const nav = [
    { href: base, label: "Overview", exact: true },
    { href: `${base}/instances`, label: "Instances" },
    { href: `${base}/volumes`, label: "Volumes" },
    { href: `${base}/snapshots`, label: "Snapshots" },
    { href: `${base}/networks`, label: "Networks" },
    { href: `${base}/security-groups`, label: "Security groups" },
    { href: `${base}/floating-ips`, label: "Floating IPs" },
    { href: `${base}/ssh-keys`, label: "SSH keys" },
    { href: `${base}/members`, label: "Members" },
    { href: `${base}/activity`, label: "Activity" },
    // Webhooks are managed by tenant admins only.
    ...(m.role === "tenant-admin" ? [{ href: `${base}/webhooks`, label: "Webhooks" }] : []),
  ];
  return (
    <Shell
      area={`Tenant portal · ${m.name}`}
      nav={nav}
      user={{ name: v.name, email: v.email, role: m.role === "tenant-admin" ? "Tenant admin" : "Tenant member" }}
      switcher={<TenantSwitcher current={m.slug} tenants={v.tenants} />}
    >
      {m.state === "suspended" ? (
        <div
          role="status"
          className="mb-4 rounded-md border border-amber-300 bg-amber-50 px-4 py-2 text-sm text-amber-900 dark:border-amber-800 dark:bg-amber-950 dark:text-amber-100"
        >
          This tenant is suspended: running servers keep running, but nothing new can be created.
        </div>
      ) : null}
      <InvitationsNotice />
      {children}
    </Shell>
  );
}
