"use client";
// One security group: its rules (delete each after confirmation), the rule editor (direction, ethertype, protocol,
// port range, remote CIDR or remote group — field errors from the same checks the server runs), the ports a change
// reaches, whether the current rules are applied on every NIC (polled while some are behind), and deleting the group
// (disabled with the reason when it is the default, attached, or referenced).
import { TableHead } from "@/components/ui/table-head";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import Link from "next/link";
import { useState } from "react";
import { useForm } from "react-hook-form";
import { useRouter } from "next/navigation";
import { errorInfo, useTRPC } from "@/components/trpc";
import { ActionButtons, Button } from "@/components/ui/button";
import { ConfirmDialog } from "@/components/ui/dialog";
import { Field, FormError, Options } from "@/components/ui/form";
import { EmptyState, PageHeader } from "@/components/ui/page";
import { useToast } from "@/components/ui/toast";
import { securityGroupRuleSchema } from "@/db/validation/network";
import { placeServerErrors } from "@/components/ui/server-errors";
import { RulesApplied, rulesStatusRefetch } from "./rules-applied";

interface RuleForm {
  direction: "ingress" | "egress";
  ethertype: "ipv4" | "ipv6";
  protocol: "tcp" | "udp" | "icmp" | "any";
  portMin: string;
  portMax: string;
  remoteKind: "cidr" | "group";
  remoteCidr: string;
  remoteGroupId: string;
  description: string;
}

const describePorts = (r: { protocol: string; portMin: number | null; portMax: number | null }) =>
  r.protocol !== "tcp" && r.protocol !== "udp" ? "—" : r.portMin === null ? "all" : r.portMin === r.portMax ? String(r.portMin) : `${r.portMin}–${r.portMax}`;

export function SecurityGroupDetail({ tenant, groupId }: { tenant: string; groupId: string }) {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const toast = useToast();
  const router = useRouter();
  const group = useQuery(trpc.securityGroups.get.queryOptions({ tenant, id: groupId }));
  const affected = useQuery(trpc.securityGroups.affectedPorts.queryOptions({ tenant, id: groupId }));
  const applied = useQuery({ ...trpc.securityGroups.rulesStatus.queryOptions({ tenant, id: groupId }), refetchInterval: rulesStatusRefetch });
  const siblings = useQuery({ ...trpc.securityGroups.list.queryOptions({ tenant, vpcId: group.data?.vpcId, limit: 200 }), enabled: !!group.data });
  const [deletingRule, setDeletingRule] = useState<string | null>(null);
  const [deletingGroup, setDeletingGroup] = useState(false);
  const [submitError, setSubmitError] = useState<string | null>(null);
  const refresh = async () => {
    await qc.invalidateQueries(trpc.securityGroups.pathFilter());
    await qc.invalidateQueries(trpc.ports.pathFilter());
  };
  const form = useForm<RuleForm>({
    defaultValues: {
      direction: "ingress",
      ethertype: "ipv4",
      protocol: "tcp",
      portMin: "",
      portMax: "",
      remoteKind: "cidr",
      remoteCidr: "0.0.0.0/0",
      remoteGroupId: "",
      description: "",
    },
  });
  const addRule = useMutation(
    trpc.securityGroups.addRule.mutationOptions({
      onSuccess: async (_r, _v) => {
        toast("success", "Rule added; it is being applied on the NICs using this group.");
        form.reset({ ...form.getValues(), portMin: "", portMax: "", description: "" });
        await refresh();
      },
      onError: (e) =>
        setSubmitError(
          placeServerErrors(
            e,
            ["direction", "ethertype", "protocol", "portMin", "portMax", "remoteCidr", "remoteGroupId", "description"] as const,
            (f, message) => form.setError(f, { message }),
          ),
        ),
    }),
  );
  const delRule = useMutation(
    trpc.securityGroups.deleteRule.mutationOptions({
      onSuccess: async () => {
        toast("success", "Rule deleted.");
        setDeletingRule(null);
        await refresh();
      },
      onError: (e) => toast("error", errorInfo(e).message),
    }),
  );
  const delGroup = useMutation(
    trpc.securityGroups.delete.mutationOptions({
      onSuccess: async () => {
        toast("success", `Security group ${group.data?.name} deleted.`);
        await refresh();
        router.push(`/t/${tenant}/security-groups`);
      },
      onError: (e) => toast("error", errorInfo(e).message),
    }),
  );

  if (group.error) return <FormError message={errorInfo(group.error).message} />;
  if (!group.data) return <p className="text-sm text-zinc-500">Loading…</p>;
  const g = group.data;

  const submit = form.handleSubmit((v) => {
    setSubmitError(null);
    const num = (s: string) => (s.trim() === "" ? null : Number(s));
    const input = {
      groupId,
      direction: v.direction,
      ethertype: v.ethertype,
      protocol: v.protocol,
      portMin: num(v.portMin),
      portMax: num(v.portMax) ?? num(v.portMin),
      remoteCidr: v.remoteKind === "cidr" ? v.remoteCidr : null,
      remoteGroupId: v.remoteKind === "group" ? v.remoteGroupId || null : null,
      description: v.description,
    };
    // The same checks the server runs, so most mistakes show on the field before a round trip.
    const local = securityGroupRuleSchema.safeParse(input);
    if (!local.success) {
      for (const issue of local.error.issues) form.setError(String(issue.path[0] ?? "description") as keyof RuleForm, { message: issue.message });
      return;
    }
    addRule.mutate({ tenant, ...input });
  });
  const err = form.formState.errors;
  const protocol = form.watch("protocol");
  const remoteKind = form.watch("remoteKind");
  const ranged = protocol === "tcp" || protocol === "udp";

  return (
    <div className="flex flex-col gap-6">
      <div>
        <p className="mb-2 text-sm">
          <Link href={`/t/${tenant}/security-groups`} className="text-sky-700 hover:underline dark:text-sky-400">
            ← Security groups
          </Link>
        </p>
        <PageHeader
          title={`Security group ${g.name}`}
          description={`In VPC ${g.vpcName}. ${g.description}`}
          buttons={[{ label: "Delete group", variant: "danger", disabledReason: g.deleteBlockedReason, onClick: () => setDeletingGroup(true) }]}
        />
      </div>
      <section aria-label="Rules">
        <div className="mb-2 flex flex-wrap items-center justify-between gap-2">
          <h2 className="text-lg font-semibold">Rules</h2>
          <RulesApplied status={applied.data} />
        </div>
        {g.rules.length === 0 ? (
          <EmptyState title="No rules" body="With no rules, nothing new gets in or out of ports in this group." />
        ) : (
          <div className="overflow-x-auto rounded-lg border border-zinc-200 dark:border-zinc-800">
            <table aria-label="Rules" className="w-full text-left text-sm">
              <TableHead columns={["Direction", "Ethertype", "Protocol", "Ports", "Remote", "Description", ""]} tone="boxed" cell="px-4 py-2 font-medium" />
              <tbody className="divide-y divide-zinc-100 dark:divide-zinc-800">
                {g.rules.map((r) => (
                  <tr key={r.id}>
                    <td className="px-4 py-2">{r.direction}</td>
                    <td className="px-4 py-2">{r.ethertype === "ipv4" ? "IPv4" : "IPv6"}</td>
                    <td className="px-4 py-2 uppercase">{r.protocol}</td>
                    <td className="px-4 py-2 tabular-nums">{describePorts(r)}</td>
                    <td className="px-4 py-2">{r.remoteCidr ? <code className="text-xs">{r.remoteCidr}</code> : `group ${r.remoteGroupName}`}</td>
                    <td className="px-4 py-2 text-zinc-600 dark:text-zinc-400">{r.description}</td>
                    <td className="px-4 py-2 text-right">
                      <ActionButtons
                        size="sm"
                        actions={[
                          {
                            label: "Delete",
                            variant: "danger",
                            name: `Delete rule ${r.direction} ${r.protocol} ${describePorts(r)}`,
                            onClick: () => setDeletingRule(r.id),
                          },
                        ]}
                      />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>
      <section aria-label="Add a rule" className="rounded-lg border border-zinc-200 p-4 dark:border-zinc-800">
        <h2 className="mb-3 text-lg font-semibold">Add a rule</h2>
        <form onSubmit={submit} noValidate className="grid grid-cols-1 gap-4 sm:grid-cols-3">
          <div className="sm:col-span-3">
            <FormError message={submitError} />
          </div>
          <Field label="Direction" error={err.direction}>
            {(p) => (
              <select {...p} {...form.register("direction")}>
                <option value="ingress">Ingress (in)</option>
                <option value="egress">Egress (out)</option>
              </select>
            )}
          </Field>
          <Field label="Ethertype" error={err.ethertype}>
            {(p) => (
              <select {...p} {...form.register("ethertype")}>
                <option value="ipv4">IPv4</option>
                <option value="ipv6">IPv6</option>
              </select>
            )}
          </Field>
          <Field label="Protocol" error={err.protocol}>
            {(p) => (
              <select {...p} {...form.register("protocol")}>
                <option value="tcp">TCP</option>
                <option value="udp">UDP</option>
                <option value="icmp">ICMP</option>
                <option value="any">Any</option>
              </select>
            )}
          </Field>
          <Field label="First port" hint={ranged ? "Empty means all ports." : "Ports apply to TCP and UDP only."} error={err.portMin}>
            {(p) => <input {...p} inputMode="numeric" disabled={!ranged} {...form.register("portMin")} />}
          </Field>
          <Field label="Last port" hint="Empty means the first port only." error={err.portMax}>
            {(p) => <input {...p} inputMode="numeric" disabled={!ranged} {...form.register("portMax")} />}
          </Field>
          <Field label="Remote is" error={undefined}>
            {(p) => (
              <select {...p} {...form.register("remoteKind")}>
                <option value="cidr">an address range (CIDR)</option>
                <option value="group">a security group's members</option>
              </select>
            )}
          </Field>
          {remoteKind === "cidr" ? (
            <Field label="Remote CIDR" hint="Source for ingress, destination for egress; 0.0.0.0/0 is anywhere." error={err.remoteCidr}>
              {(p) => <input {...p} {...form.register("remoteCidr")} />}
            </Field>
          ) : (
            <Field label="Remote group" hint="Its members' addresses, kept up to date as ports join and leave." error={err.remoteGroupId}>
              {(p) => (
                <select {...p} {...form.register("remoteGroupId")}>
                  <option value="">Choose a group…</option>
                  <Options of={siblings.data?.items} value={(s) => s.id} label={(s) => s.name} />
                </select>
              )}
            </Field>
          )}
          <Field label="Description" error={err.description}>
            {(p) => <input {...p} {...form.register("description")} />}
          </Field>
          <div className="flex items-end justify-end">
            <Button type="submit" variant="primary" busy={addRule.isPending}>
              Add rule
            </Button>
          </div>
        </form>
      </section>
      <section aria-label="Ports using this group">
        <h2 className="mb-2 text-lg font-semibold">Ports a change reaches</h2>
        {affected.data?.length ? (
          <ul className="text-sm">
            {affected.data.map((p) => (
              <li key={p.id}>
                {p.name} <span className="text-zinc-500">(rules v{p.rulesVersion})</span>
              </li>
            ))}
          </ul>
        ) : (
          <p className="text-sm text-zinc-500">No ports use this group yet.</p>
        )}
      </section>
      <ConfirmDialog
        open={!!deletingRule}
        title="Delete this rule?"
        body={<p>Ports using the group stop accepting new connections that only this rule allowed.</p>}
        confirmLabel="Delete rule"
        busy={delRule.isPending}
        onConfirm={() => deletingRule && delRule.mutate({ tenant, id: deletingRule })}
        onClose={() => setDeletingRule(null)}
      />
      <ConfirmDialog
        open={deletingGroup}
        title={`Delete security group ${g.name}?`}
        body={<p>The group and its rules are removed for good. This cannot be undone.</p>}
        confirmLabel="Delete group"
        busy={delGroup.isPending}
        onConfirm={() => delGroup.mutate({ tenant, id: groupId })}
        onClose={() => setDeletingGroup(false)}
      />
    </div>
  );
}
