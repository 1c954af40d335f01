"use client";
// Operator console: one tenant — rename, suspend/resume, delete (refused with the reason while it runs resources),
// members (add/invite, role, remove), and usage against quota with the limits editable by operator admins.
import { TableHead } from "@/components/ui/table-head";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useRouter } from "next/navigation";
import { useState } from "react";
import { errorInfo, useTRPC } from "@/components/trpc";
import { Button } from "@/components/ui/button";
import { ConfirmDialog } from "@/components/ui/dialog";
import { FormError } from "@/components/ui/form";
import { PageHeader } from "@/components/ui/page";
import { useToast } from "@/components/ui/toast";
import { QUOTA_DEFAULTS, type QuotaResource } from "@/db/schema/quotas";
import { operatorCan, reasonOf } from "@/domain/roles";
import { MembersPanel } from "./members-panel";
import { QuotaEditDialog } from "./quota-edit";
import { TenantRenameDialog } from "./tenant-rename";
import { StateBadge } from "./tenants-page";

export const QUOTA_LABELS: Record<QuotaResource, string> = {
  instances: "Instances",
  cores: "Cores",
  ramGiB: "RAM (GiB)",
  volumes: "Volumes",
  volumeGiB: "Volume storage (GiB)",
  snapshots: "Snapshots",
  vpcs: "VPCs",
  subnets: "Subnets",
  securityGroups: "Security groups",
  addresses: "IP addresses",
};

export function QuotaTable({ limits, usage }: { limits: Record<QuotaResource, number>; usage: Record<QuotaResource, number | null> }) {
  return (
    <table aria-label="Usage and quota" className="w-full max-w-xl text-left text-sm">
      <TableHead columns={["Resource", "In use", "Quota"]} tone="plain" cell="py-1 text-right" first="py-1" />
      <tbody>
        {(Object.keys(QUOTA_DEFAULTS) as QuotaResource[]).map((k) => {
          const used = usage[k];
          const over = used !== null && used >= limits[k];
          return (
            <tr key={k} className="border-t border-zinc-200 dark:border-zinc-800">
              <td className="py-1">{QUOTA_LABELS[k]}</td>
              <td className={`py-1 text-right tabular-nums ${over ? "font-medium text-amber-700 dark:text-amber-300" : ""}`}>
                {used === null ? <span title="Not measured yet">—</span> : used}
              </td>
              <td className="py-1 text-right tabular-nums">{limits[k]}</td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}

export function TenantDetail({ id }: { id: string }) {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const toast = useToast();
  const router = useRouter();
  const me = useQuery(trpc.session.me.queryOptions());
  const changeReason = me.data ? reasonOf(operatorCan.change(me.data.platformRole)) : "Loading your permissions…";
  const t = useQuery(trpc.tenants.get.queryOptions({ id }));
  const [confirm, setConfirm] = useState<"suspend" | "resume" | "delete" | null>(null);
  const [renaming, setRenaming] = useState(false);
  const [editingQuota, setEditingQuota] = useState(false);
  const refresh = () => qc.invalidateQueries(trpc.tenants.pathFilter());
  const onError = (e: unknown) => toast("error", errorInfo(e).message);
  const suspend = useMutation(trpc.tenants.suspend.mutationOptions({ onError }));
  const resume = useMutation(trpc.tenants.resume.mutationOptions({ onError }));
  const del = useMutation(trpc.tenants.delete.mutationOptions({ onError }));

  if (t.error) return <FormError message={errorInfo(t.error).message} />;
  if (!t.data) return <p className="text-sm text-zinc-500">Loading…</p>;
  const d = t.data;
  const run = async () => {
    try {
      if (confirm === "suspend") await suspend.mutateAsync({ id });
      if (confirm === "resume") await resume.mutateAsync({ id });
      if (confirm === "delete") {
        await del.mutateAsync({ id });
        toast("success", `Tenant ${d.name} deleted.`);
        setConfirm(null);
        await refresh();
        router.push("/ops/tenants");
        return;
      }
      toast("success", `Tenant ${d.name} ${confirm === "suspend" ? "suspended" : "resumed"}.`);
      setConfirm(null);
      await refresh();
    } catch {
      setConfirm(null);
    }
  };
  return (
    <div className="flex flex-col gap-8">
      <PageHeader
        title={d.name}
        description={`Slug ${d.slug} · portal at /t/${d.slug}`}
        actions={
          <>
            <Button disabledReason={changeReason} onClick={() => setRenaming(true)}>
              Rename
            </Button>
            {d.state === "active" ? (
              <Button disabledReason={changeReason} onClick={() => setConfirm("suspend")}>
                Suspend
              </Button>
            ) : (
              <Button disabledReason={changeReason} onClick={() => setConfirm("resume")}>
                Resume
              </Button>
            )}
            <Button variant="danger" disabledReason={changeReason} onClick={() => setConfirm("delete")}>
              Delete
            </Button>
          </>
        }
      />
      <p className="-mt-6 text-sm">
        State: <StateBadge state={d.state} />
      </p>
      <section aria-labelledby="members-h" className="flex flex-col gap-2">
        <h2 id="members-h" className="text-lg font-semibold">
          Members
        </h2>
        <MembersPanel scope={{ kind: "ops", id }} canManage={changeReason} tenantName={d.name} adminCount={d.adminCount} />
      </section>
      <section aria-labelledby="quota-h" className="flex flex-col gap-2">
        <div className="flex max-w-xl items-center justify-between">
          <h2 id="quota-h" className="text-lg font-semibold">
            Usage and quota
          </h2>
          <Button size="sm" disabledReason={changeReason} onClick={() => setEditingQuota(true)}>
            Edit quota
          </Button>
        </div>
        <QuotaTable limits={d.quota} usage={d.usage} />
      </section>
      {renaming ? <TenantRenameDialog id={id} name={d.name} onClose={() => setRenaming(false)} /> : null}
      {editingQuota ? <QuotaEditDialog tenantId={id} limits={d.quota} onClose={() => setEditingQuota(false)} /> : null}
      <ConfirmDialog
        open={!!confirm}
        title={confirm === "delete" ? `Delete tenant ${d.name}?` : confirm === "suspend" ? `Suspend ${d.name}?` : `Resume ${d.name}?`}
        body={
          <p>
            {confirm === "delete"
              ? "Only a tenant with no resources can be deleted. Its members lose access; their accounts stay."
              : confirm === "suspend"
                ? "Members can still sign in and look, but nothing new can be created. Running servers keep running."
                : "Members can create resources again."}
          </p>
        }
        confirmLabel={confirm === "delete" ? "Delete tenant" : confirm === "suspend" ? "Suspend tenant" : "Resume tenant"}
        busy={suspend.isPending || resume.isPending || del.isPending}
        onConfirm={() => run()}
        onClose={() => setConfirm(null)}
      />
    </div>
  );
}
