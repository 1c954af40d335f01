"use client";
// "Create subnet" in a VPC: range, gateway, VLAN, reserved ranges and DNS servers. Form values are shaped for
// people (text lines) and converted to the router's input on submit.
import { useMutation } from "@tanstack/react-query";
import { useForm } from "react-hook-form";
import { useTRPC } from "@/components/trpc";
import { FormDialog, TextAreaField, TextField } from "@/components/ui/form-dialog";
import { useDone } from "@/components/ui/use-done";

interface SubnetForm {
  name: string;
  cidr: string;
  gateway: string;
  reservedRanges: string;
  dnsServers: string;
  vlanId: string;
  description: string;
}

export function SubnetCreateDialog({ tenant, vpcId, vpcCidr, onClose }: { tenant: string; vpcId: string; vpcCidr: string; onClose: () => void }) {
  const trpc = useTRPC();
  const done = useDone();
  const form = useForm<SubnetForm>({ defaultValues: { name: "", cidr: "", gateway: "", reservedRanges: "", dnsServers: "", vlanId: "", description: "" } });
  const create = useMutation(
    trpc.subnets.create.mutationOptions({
      onSuccess: (r) => done(`Subnet ${r.name} created (gateway ${r.gateway}).`, [trpc.subnets.pathFilter(), trpc.vpcs.pathFilter()], onClose),
    }),
  );
  const submit = form.handleSubmit((v) => {
    const lines = v.reservedRanges
      .split(/[\n,]/)
      .map((l) => l.trim())
      .filter(Boolean);
    const reservedRanges = lines.map((l) => {
      const [start, end] = l.split(/\s*[-–]\s*/);
      return { start: start ?? "", end: end ?? start ?? "" };
    });
    const vlan = v.vlanId.trim();
    if (vlan && !/^\d+$/.test(vlan)) {
      form.setError("vlanId", { message: "VLAN ids are 1–4094" });
      return;
    }
    create.mutate({
      tenant,
      vpcId,
      name: v.name,
      cidr: v.cidr,
      gateway: v.gateway || undefined,
      reservedRanges,
      dnsServers: v.dnsServers.split(/[\s,]+/).filter(Boolean),
      vlanId: vlan ? Number(vlan) : null,
      description: v.description,
    });
  });
  return (
    <FormDialog
      title="Create subnet"
      wide
      columns
      form={form}
      loading={create.isPending}
      submitError={create.error}
      submitLabel="Create subnet"
      onClose={onClose}
      onSubmit={submit}
    >
      <TextField name="name" label="Name" hint="Lowercase letters, digits and dashes." autoFocus />
      <TextField name="cidr" label="Subnet range" hint={`Inside ${vpcCidr}, /16 to /29, e.g. 10.0.1.0/24.`} />
      <TextField name="gateway" label="Gateway (optional)" hint="Defaults to the first usable address." />
      <TextField name="vlanId" label="VLAN id (optional)" hint="Without one, the subnet rides the VPC's VNI." inputMode="numeric" />
      <TextAreaField name="reservedRanges" label="Reserved ranges (optional)" hint="One per line: 10.0.1.200-10.0.1.220. Never handed out." rows={2} />
      <TextField
        name="dnsServers"
        label="DNS servers (optional)"
        hint="Up to 4 resolvers the instances can reach, comma separated. The VPC router answers ping at the gateway, not DNS."
      />
    </FormDialog>
  );
}
