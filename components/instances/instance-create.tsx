"use client";
// The create-instance form: one page, top to bottom in the order a person decides — name, pool (flavour cards with
// how many hosts are free), image and system disk size, network (subnet, security groups of its VPC), access (SSH
// keys, cloud-init user data checked as the server will read it), data volumes, recovery policy — and a summary of
// what it costs against the quota. The schema is the router's own (db/validation/instances.ts); the server checks
// everything again and its field errors land on the fields. On success the instance's page shows the progress.
import { zodResolver } from "@hookform/resolvers/zod";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import Link from "next/link";
import { useRouter } from "next/navigation";
import { useEffect, useMemo, useState } from "react";
import { type FieldError, useForm } from "react-hook-form";
import type { z } from "zod";
import { errorInfo, useTRPC } from "@/components/trpc";
import { Button } from "@/components/ui/button";
import { Field, FormError, Options } from "@/components/ui/form";
import { PageHeader } from "@/components/ui/page";
import { useToast } from "@/components/ui/toast";
import { instanceCreateSchema } from "@/db/validation/instances";
import { fieldMessages, placeServerErrors } from "@/components/ui/server-errors";
import { TraitPicker } from "./trait-picker";

type FormIn = z.input<typeof instanceCreateSchema>;
type FormOut = z.output<typeof instanceCreateSchema>;
const FIELDS = [
  "name",
  "description",
  "poolId",
  "imageId",
  "systemVolumeSizeGiB",
  "subnetId",
  "securityGroupIds",
  "sshKeyIds",
  "userData",
  "recoveryPolicy",
  "dataVolumeIds",
  "requiredTraits",
] as const;

function Section({ title, children }: { title: string; children: React.ReactNode }) {
  return (
    <fieldset className="flex flex-col gap-3 rounded-lg border border-zinc-200 p-4 dark:border-zinc-800">
      <legend className="px-1 text-sm font-semibold">{title}</legend>
      {children}
    </fieldset>
  );
}

export function InstanceCreateForm({ tenant }: { tenant: string }) {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const router = useRouter();
  const toast = useToast();
  const [submitError, setSubmitError] = useState<string | null>(null);
  // NICs beyond the primary (eth1, eth2, …): a subnet of any of the tenant's VPCs and an optional fixed address each.
  const [extraNics, setExtraNics] = useState<{ key: number; subnetId: string; address: string }[]>([]);
  const form = useForm<FormIn, unknown, FormOut>({
    resolver: zodResolver(instanceCreateSchema),
    defaultValues: { name: "", userData: "", securityGroupIds: [], sshKeyIds: [], dataVolumeIds: [], recoveryPolicy: "manual", requiredTraits: [] },
  });
  // Free hosts come and go while the form is open: the counts stay current.
  const flavors = useQuery({ ...trpc.instances.flavors.queryOptions({ tenant }), refetchInterval: 10_000 });
  const images = useQuery(trpc.images.available.queryOptions({ tenant, limit: 200 }));
  const subnets = useQuery(trpc.subnets.list.queryOptions({ tenant, limit: 200 }));
  const groups = useQuery(trpc.securityGroups.list.queryOptions({ tenant, limit: 200 }));
  const keys = useQuery(trpc.sshKeys.list.queryOptions({ limit: 100 }));
  const vols = useQuery(trpc.volumes.list.queryOptions({ tenant, limit: 200 }));
  const quota = useQuery(trpc.quotas.get.queryOptions({ tenant }));

  const [poolId, imageId, subnetId, size, groupIds, dataIds] = form.watch([
    "poolId",
    "imageId",
    "subnetId",
    "systemVolumeSizeGiB",
    "securityGroupIds",
    "dataVolumeIds",
  ]);
  // Traits are the chosen pool's: another pool starts with none asked for.
  // biome-ignore lint/correctness/useExhaustiveDependencies: runs when the pool changes, by design
  useEffect(() => form.setValue("requiredTraits", []), [poolId]);
  const flavor = flavors.data?.find((f) => f.poolId === poolId);
  const image = images.data?.items.find((i) => i.id === imageId);
  const subnet = subnets.data?.items.find((s) => s.id === subnetId);
  const vpcGroups = useMemo(() => (groups.data?.items ?? []).filter((g) => g.vpcId === subnet?.vpcId), [groups.data, subnet?.vpcId]);
  const dataVolumes = (vols.data?.items ?? []).filter((v) => v.kind === "data" && (v.state === "available" || (v.multiAttach && v.state === "attached")));
  const diskGiB = Number(size) || image?.minSizeGiB || 0;

  // The disk defaults to the image's minimum; the VPC's default group is preselected when the subnet changes.
  useEffect(() => {
    if (image && !form.getValues("systemVolumeSizeGiB")) form.setValue("systemVolumeSizeGiB", image.minSizeGiB);
  }, [image, form]);
  useEffect(() => {
    const def = vpcGroups.find((g) => g.isDefault);
    form.setValue("securityGroupIds", def ? [def.id] : []);
  }, [vpcGroups, form]);

  const create = useMutation(
    trpc.instances.create.mutationOptions({
      onSuccess: async (r) => {
        toast("success", `Instance ${form.getValues("name")} is being created.`);
        await qc.invalidateQueries(trpc.instances.pathFilter());
        router.push(`/t/${encodeURIComponent(tenant)}/instances/${r.id}`);
      },
      onError: (e) => setSubmitError(placeServerErrors(e, FIELDS, (f, message) => form.setError(f, { message }))),
    }),
  );
  const submit = form.handleSubmit((v) => {
    setSubmitError(null);
    const nics = extraNics.length
      ? [
          { subnetId: v.subnetId!, securityGroupIds: v.securityGroupIds },
          ...extraNics.map((n) => ({ subnetId: n.subnetId, address: n.address.trim() || undefined, securityGroupIds: [] })),
        ]
      : undefined;
    create.mutate({ ...v, nics, tenant, systemVolumeSizeGiB: v.systemVolumeSizeGiB || undefined, description: v.description || undefined });
  });
  const toggle = (field: "securityGroupIds" | "sshKeyIds" | "dataVolumeIds", id: string) => {
    const cur = (form.getValues(field) ?? []) as string[];
    form.setValue(field, cur.includes(id) ? cur.filter((x) => x !== id) : [...cur, id], { shouldDirty: true });
  };
  const e = form.formState.errors;
  const left = (k: "instances" | "cores" | "ramGiB" | "volumes" | "volumeGiB") => (quota.data ? quota.data.limits[k] - (quota.data.usage[k] ?? 0) : null);
  const cost: { label: string; add: number; left: number | null; unit?: string }[] = [
    { label: "Instances", add: 1, left: left("instances") },
    { label: "Cores", add: flavor?.cores ?? 0, left: left("cores") },
    { label: "RAM", add: flavor?.ramGiB ?? 0, left: left("ramGiB"), unit: " GiB" },
    { label: "Volumes", add: 1, left: left("volumes") },
    { label: "Volume capacity", add: diskGiB, left: left("volumeGiB"), unit: " GiB" },
  ];
  const noNetwork = subnets.data && subnets.data.items.length === 0;

  return (
    <div className="max-w-3xl">
      <PageHeader title="Create instance" description="A bare-metal server from a pool, booted from a cloud disk cloned from an image." />
      <form onSubmit={submit} noValidate className="flex flex-col gap-5" aria-label="Create instance">
        <FormError message={submitError} />
        <Section title="Name">
          <Field label="Name" hint="Lowercase letters, digits and dashes; it becomes the host name." error={e.name}>
            {(p) => <input {...p} autoComplete="off" {...form.register("name")} />}
          </Field>
          <Field label="Description" error={e.description}>
            {(p) => <input {...p} {...form.register("description")} />}
          </Field>
        </Section>

        <Section title="Pool">
          <div role="radiogroup" aria-label="Pool" className="grid gap-3 sm:grid-cols-2">
            {(flavors.data ?? []).map((f) => {
              const none = f.total === 0 ? "No hosts that can run instances." : f.available === 0 ? "No free host right now." : null;
              const checked = poolId === f.poolId;
              return (
                <label
                  key={f.poolId}
                  className={`flex cursor-pointer flex-col gap-1 rounded-md border p-3 text-sm ${checked ? "border-sky-500 ring-2 ring-sky-500/30" : "border-zinc-300 dark:border-zinc-700"} ${none ? "cursor-not-allowed opacity-60" : ""}`}
                >
                  <span className="flex items-center gap-2">
                    <input type="radio" value={f.poolId} disabled={!!none} aria-describedby={`pool-${f.poolId}`} {...form.register("poolId")} />
                    <span className="font-medium">{f.name}</span>
                    <span className="font-mono text-xs text-zinc-500">{f.resourceClass}</span>
                  </span>
                  <span id={`pool-${f.poolId}`} className="text-xs text-zinc-600 dark:text-zinc-400">
                    {f.cores} cores · {f.ramGiB} GiB RAM · system disk up to {f.maxSystemVolumeGiB} GiB · {f.available} of {f.total} free
                    {none ? ` — ${none}` : ""}
                  </span>
                </label>
              );
            })}
          </div>
          {flavors.data?.length === 0 ? <p className="text-sm text-zinc-600">No pools exist yet; an operator creates them.</p> : null}
          {e.poolId ? <p className="text-xs text-red-600 dark:text-red-400">{e.poolId.message}</p> : null}
          <TraitPicker
            key={poolId}
            tenant={tenant}
            poolId={poolId}
            register={form.register("requiredTraits")}
            error={e.requiredTraits as FieldError | undefined}
          />
        </Section>

        <Section title="Image and system disk">
          <Field label="Image" error={e.imageId}>
            {(p) => (
              <select {...p} {...form.register("imageId")} defaultValue="">
                <option value="" disabled>
                  Choose an image
                </option>
                <Options
                  of={images.data?.items}
                  value={(i) => i.id}
                  label={(i) => `${i.name} (${i.os} ${i.version}, needs ${i.minSizeGiB} GiB${i.visibility === "tenant" ? ", private" : ""})`}
                />
              </select>
            )}
          </Field>
          <Field
            label="System disk size (GiB)"
            hint={
              image
                ? `At least ${image.minSizeGiB} GiB for ${image.name}${flavor ? `; at most ${flavor.maxSystemVolumeGiB} GiB in ${flavor.name}` : ""}.`
                : "Defaults to the image's minimum."
            }
            error={e.systemVolumeSizeGiB}
          >
            {(p) => (
              <input
                {...p}
                type="number"
                min={image?.minSizeGiB ?? 1}
                max={flavor?.maxSystemVolumeGiB}
                {...form.register("systemVolumeSizeGiB", { setValueAs: (v) => (v === "" || v == null ? undefined : Number(v)) })}
              />
            )}
          </Field>
        </Section>

        <Section title="Network">
          {noNetwork ? (
            <p className="text-sm">
              This tenant has no subnet yet.{" "}
              <Link className="text-sky-700 underline dark:text-sky-400" href={`/t/${encodeURIComponent(tenant)}/networks`}>
                Create a VPC and a subnet
              </Link>{" "}
              first.
            </p>
          ) : null}
          <Field label="Subnet" error={e.subnetId}>
            {(p) => (
              <select {...p} {...form.register("subnetId")} defaultValue="">
                <option value="" disabled>
                  Choose a subnet
                </option>
                <Options of={subnets.data?.items} value={(s) => s.id} label={(s) => `${s.vpcName} / ${s.name} (${s.cidr})`} />
              </select>
            )}
          </Field>
          <fieldset className="flex flex-col gap-1 text-sm">
            <legend className="font-medium">Security groups</legend>
            {!subnet ? <span className="text-xs text-zinc-500">Choose a subnet to see its VPC's groups.</span> : null}
            {vpcGroups.map((g) => (
              <label key={g.id} className="flex items-center gap-2">
                <input type="checkbox" checked={(groupIds ?? []).includes(g.id)} onChange={() => toggle("securityGroupIds", g.id)} />
                {g.name}
                <span className="text-xs text-zinc-500">
                  {g.ruleCount} rules{g.isDefault ? " · default" : ""}
                </span>
              </label>
            ))}
            {e.securityGroupIds ? <p className="text-xs text-red-600 dark:text-red-400">{e.securityGroupIds.message}</p> : null}
          </fieldset>
          {extraNics.map((n, idx) => {
            const errs = fieldMessages(create.error, ["subnetId", "address"], `nics.${idx + 1}.`);
            const set = (patch: Partial<typeof n>) => setExtraNics((l) => l.map((x) => (x.key === n.key ? { ...x, ...patch } : x)));
            return (
              <fieldset key={n.key} className="flex flex-col gap-2 border-t border-zinc-200 pt-3 text-sm dark:border-zinc-800">
                <legend className="font-medium">NIC eth{idx + 1}</legend>
                <Field
                  label={`Subnet of eth${idx + 1}`}
                  hint="Any of this tenant's VPCs; the NIC gets that VPC's default security group."
                  error={errs.subnetId}
                >
                  {(p) => (
                    <select {...p} value={n.subnetId} onChange={(ev) => set({ subnetId: ev.target.value })}>
                      <option value="" disabled>
                        Choose a subnet
                      </option>
                      <Options of={subnets.data?.items} value={(s) => s.id} label={(s) => `${s.vpcName} / ${s.name} (${s.cidr})`} />
                    </select>
                  )}
                </Field>
                <Field label={`IP address of eth${idx + 1} (optional)`} hint="Leave empty for the subnet's next free address." error={errs.address}>
                  {(p) => <input {...p} value={n.address} onChange={(ev) => set({ address: ev.target.value })} />}
                </Field>
                <div>
                  <Button size="sm" onClick={() => setExtraNics((l) => l.filter((x) => x.key !== n.key))}>
                    Remove eth{idx + 1}
                  </Button>
                </div>
              </fieldset>
            );
          })}
          <div>
            <Button
              size="sm"
              disabledReason={extraNics.length >= 7 ? "At most 8 NICs." : null}
              onClick={() => setExtraNics((l) => [...l, { key: Date.now() + l.length, subnetId: "", address: "" }])}
            >
              Add another NIC
            </Button>
          </div>
        </Section>

        <Section title="Access">
          <fieldset className="flex flex-col gap-1 text-sm">
            <legend className="font-medium">SSH keys</legend>
            {(keys.data?.items ?? []).length === 0 ? (
              <span className="text-xs text-zinc-500">
                You have no SSH keys.{" "}
                <Link className="text-sky-700 underline dark:text-sky-400" href={`/t/${encodeURIComponent(tenant)}/ssh-keys`}>
                  Add one
                </Link>{" "}
                to log in without a password.
              </span>
            ) : null}
            {(keys.data?.items ?? []).map((k) => (
              <label key={k.id} className="flex items-center gap-2">
                <input type="checkbox" checked={(form.watch("sshKeyIds") ?? []).includes(k.id)} onChange={() => toggle("sshKeyIds", k.id)} />
                {k.name}
              </label>
            ))}
            {e.sshKeyIds ? <p className="text-xs text-red-600 dark:text-red-400">{e.sshKeyIds.message}</p> : null}
          </fieldset>
          <Field label="User data (cloud-init)" hint="Optional. #cloud-config YAML, or a script starting with #!; at most 64 KiB." error={e.userData}>
            {(p) => (
              <textarea
                {...p}
                rows={6}
                spellCheck={false}
                className={`${p.className} font-mono`}
                placeholder={"#cloud-config\npackages: [nginx]"}
                {...form.register("userData")}
              />
            )}
          </Field>
        </Section>

        <Section title="Data volumes and recovery">
          <fieldset className="flex flex-col gap-1 text-sm">
            <legend className="font-medium">Data volumes</legend>
            {dataVolumes.length === 0 ? (
              <span className="text-xs text-zinc-500">No available data volumes; attach some later from the instance's page.</span>
            ) : null}
            {dataVolumes.map((v) => (
              <label key={v.id} className="flex items-center gap-2">
                <input type="checkbox" checked={(dataIds ?? []).includes(v.id)} onChange={() => toggle("dataVolumeIds", v.id)} />
                {v.name}{" "}
                <span className="text-xs text-zinc-500">
                  {v.sizeGiB} GiB{v.multiAttach ? " · multi-attach" : ""}
                </span>
              </label>
            ))}
            {e.dataVolumeIds ? <p className="text-xs text-red-600 dark:text-red-400">{e.dataVolumeIds.message}</p> : null}
          </fieldset>
          <Field label="If the host fails" error={e.recoveryPolicy}>
            {(p) => (
              <select {...p} {...form.register("recoveryPolicy")}>
                <option value="manual">Leave it to me (an operator can recover it)</option>
                <option value="reprovision">Recover automatically on a spare host (same disks, MAC and address)</option>
              </select>
            )}
          </Field>
        </Section>

        <section aria-label="Quota cost" className="rounded-lg border border-zinc-200 p-4 text-sm dark:border-zinc-800">
          <h2 className="mb-2 font-semibold">What it uses of your quota</h2>
          <ul className="grid gap-1 sm:grid-cols-2">
            {cost.map((c) => {
              const over = c.left !== null && c.add > c.left;
              return (
                <li key={c.label} className={over ? "text-red-700 dark:text-red-300" : ""}>
                  {c.label}: +{c.add}
                  {c.unit ?? ""} {c.left !== null ? `(${c.left}${c.unit ?? ""} left)` : ""}
                  {over ? " — over the quota" : ""}
                </li>
              );
            })}
          </ul>
        </section>

        <div className="flex justify-end gap-2">
          <Link
            href={`/t/${encodeURIComponent(tenant)}/instances`}
            className="rounded-md px-3 py-1.5 text-sm text-zinc-700 hover:bg-zinc-100 dark:text-zinc-300 dark:hover:bg-zinc-800"
          >
            Cancel
          </Link>
          <Button type="submit" variant="primary" busy={create.isPending}>
            Create instance
          </Button>
        </div>
        {flavors.error || images.error ? <FormError message={errorInfo(flavors.error ?? images.error).message} /> : null}
      </form>
    </div>
  );
}
