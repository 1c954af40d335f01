// Operator console shell. Anyone without a platform role gets the not-found page: the console does not
// exist for them (existence does not leak).
import { notFound, redirect } from "next/navigation";
import { Shell } from "@/components/shell/shell";
import { getViewer } from "@/server/auth/session";

const nav = [
  { href: "/ops", label: "Overview", exact: true },
  { href: "/ops/pools", label: "Pools" },
  { href: "/ops/nodes", label: "Nodes" },
  { href: "/ops/dpus", label: "DPUs" },
  { href: "/ops/rollouts", label: "Rollouts" },
  { href: "/ops/instances", label: "Instances" },
  { href: "/ops/storage", label: "Storage" },
  { href: "/ops/images", label: "Images" },
  { href: "/ops/networks", label: "Networks" },
  { href: "/ops/tenants", label: "Tenants" },
  { href: "/ops/users", label: "Users" },
  { href: "/ops/events", label: "Events" },
  { href: "/ops/audit", label: "Audit" },
  { href: "/ops/webhooks", label: "Webhooks" },
];

export default async function OpsLayout({ children }: { children: React.ReactNode }) {
  const v = await getViewer();
  if (!v) redirect("/login?next=/ops");
  if (!v.platformRole) notFound();
  return (
    <Shell
      area="Operator console"
      nav={nav}
      user={{ name: v.name, email: v.email, role: v.platformRole === "operator-admin" ? "Operator admin" : "Operator viewer" }}
    >
      {children}
    </Shell>
  );
}
