"use client";
// "Create subnet" in a VPC: range, gateway, VLAN, reserved ranges and DNS servers, and — when the VPC has an IPv6
// range — an optional IPv6 /64 and its gateway (dual stack; without a VPC range the fields are replaced by a hint).
// "Add IPv6" gives an IPv4-only subnet its /64 later (its ports get addresses at once). Form values are shaped for
// people (text lines) and converted to the router's input on submit.
import { useMutation } from "@tanstack/react-query";
import { useForm } from "react-hook-form";
import { useTRPC } from "@/components/trpc";
import { FormDialog, TextAreaField, TextField } from "@/components/ui/form-dialog";
import { useDone } from "@/components/ui/use-done";
import { exampleV6Subnet, parseCidr } from "@/domain/cidr";

/** The placeholder for a /64 of the VPC's IPv6 range (its first /64). */
function v6Placeholder(vpcIpv6Cidr: string): string {
  const p = parseCidr(vpcIpv6Cidr);
  return p.ok ? exampleV6Subnet(p.cidr) : "";
}

interface SubnetForm {
  name: string;
  cidr: string;
  gateway: string;
  ipv6Cidr: string;
  ipv6Gateway: string;
  reservedRanges: string;
  dnsServers: string;
  vlanId: string;
  description: string;
}

export function SubnetCreateDialog({
  tenant,
  vpcId,
  vpcCidr,
  vpcIpv6Cidr,
  onClose,
}: {
  tenant: string;
  vpcId: string;
  vpcCidr: string;
  vpcIpv6Cidr: string | null;
  onClose: () => void;
}) {
  const trpc = useTRPC();
  const done = useDone();
  const form = useForm<SubnetForm>({
    defaultValues: { name: "", cidr: "", gateway: "", ipv6Cidr: "", ipv6Gateway: "", reservedRanges: "", dnsServers: "", vlanId: "", description: "" },
  });
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
      ipv6Cidr: v.ipv6Cidr || null,
      ipv6Gateway: v.ipv6Gateway || undefined,
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
      {vpcIpv6Cidr ? (
        <>
          <TextField
            name="ipv6Cidr"
            label="IPv6 CIDR (optional)"
            placeholder={v6Placeholder(vpcIpv6Cidr)}
            hint={`A /64 inside ${vpcIpv6Cidr}: the subnet becomes dual-stack, every port gets an IPv6 address too.`}
          />
          <TextField name="ipv6Gateway" label="IPv6 gateway (optional)" hint="Defaults to the /64's ::1." />
        </>
      ) : (
        <p className="text-sm text-zinc-500 sm:col-span-2">
          IPv6: this VPC has no IPv6 range, so its subnets are IPv4 only (give the VPC one when you create it).
        </p>
      )}
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

/** "Add IPv6" to an IPv4-only subnet: its /64 and gateway; the subnet's ports get their IPv6 addresses at once. */
export function SubnetIpv6Dialog({
  tenant,
  subnet,
  vpcIpv6Cidr,
  onClose,
}: {
  tenant: string;
  subnet: { id: string; name: string };
  vpcIpv6Cidr: string;
  onClose: () => void;
}) {
  const trpc = useTRPC();
  const done = useDone();
  const form = useForm<{ ipv6Cidr: string; ipv6Gateway: string }>({ defaultValues: { ipv6Cidr: "", ipv6Gateway: "" } });
  const update = useMutation(
    trpc.subnets.update.mutationOptions({
      onSuccess: (r) => done(`Subnet ${r.name} is dual-stack (${r.ipv6Cidr}).`, [trpc.subnets.pathFilter(), trpc.ports.pathFilter()], onClose),
    }),
  );
  return (
    <FormDialog
      title={`Add IPv6 to subnet ${subnet.name}`}
      form={form}
      loading={update.isPending}
      submitError={update.error}
      submitLabel="Add IPv6"
      onClose={onClose}
      onSubmit={form.handleSubmit((v) => update.mutate({ tenant, id: subnet.id, ipv6Cidr: v.ipv6Cidr, ipv6Gateway: v.ipv6Gateway || undefined }))}
    >
      <TextField
        name="ipv6Cidr"
        label="IPv6 CIDR"
        placeholder={v6Placeholder(vpcIpv6Cidr)}
        hint={`A /64 inside ${vpcIpv6Cidr}. The subnet's ports get an IPv6 address now; a running instance configures it at its next boot.`}
        autoFocus
      />
      <TextField name="ipv6Gateway" label="IPv6 gateway (optional)" hint="Defaults to the /64's ::1." />
    </FormDialog>
  );
}
