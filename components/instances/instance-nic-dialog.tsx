"use client";
// "Add a NIC": a subnet of any of the tenant's VPCs and, optionally, a fixed address (empty: the subnet's next free
// one). The NIC appears in the running server without a reboot; its security groups are the VPC's default group. A
// taken or out-of-range address is shown on the address field.
import { useMutation, useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { useTRPC } from "@/components/trpc";
import { Field, Options } from "@/components/ui/form";
import { FormDialog } from "@/components/ui/form-dialog";
import { fieldMessages } from "@/components/ui/server-errors";
import { useDone } from "@/components/ui/use-done";

export function InstanceNicAddDialog({ tenant, id, name, onClose }: { tenant: string; id: string; name: string; onClose: () => void }) {
  const trpc = useTRPC();
  const done = useDone();
  const subnets = useQuery(trpc.subnets.list.queryOptions({ tenant, limit: 200 }));
  const [subnetId, setSubnetId] = useState("");
  const [address, setAddress] = useState("");
  const [unpicked, setUnpicked] = useState(false);
  const add = useMutation(
    trpc.instances.addNic.mutationOptions({
      onSuccess: () => done("Adding the NIC; it appears in the server without a reboot.", trpc.instances.pathFilter(), onClose),
    }),
  );
  const errors = fieldMessages(add.error, ["subnetId", "address"]);
  return (
    <FormDialog
      title={`Add a NIC to ${name}`}
      fields={["subnetId", "address"]}
      loading={add.isPending}
      submitError={add.error}
      dirty={subnetId !== "" || address !== ""}
      submitLabel="Add NIC"
      onClose={onClose}
      onSubmit={() => {
        setUnpicked(!subnetId);
        if (subnetId) add.mutate({ tenant, id, subnetId, address: address.trim() || undefined });
      }}
    >
      <Field
        label="Subnet"
        hint="A subnet of any of this tenant's VPCs; the NIC gets that VPC's default security group."
        error={unpicked ? "Choose a subnet" : errors.subnetId}
      >
        {(p) => (
          <select {...p} value={subnetId} onChange={(e) => setSubnetId(e.target.value)}>
            <option value="">Choose a subnet</option>
            <Options of={subnets.data?.items} value={(s) => s.id} label={(s) => `${s.vpcName} / ${s.name} (${s.cidr})`} />
          </select>
        )}
      </Field>
      <Field label="IP address (optional)" hint="Leave empty for the subnet's next free address." error={errors.address}>
        {(p) => <input {...p} value={address} onChange={(e) => setAddress(e.target.value)} placeholder="e.g. 10.0.1.20" inputMode="decimal" />}
      </Field>
    </FormDialog>
  );
}
