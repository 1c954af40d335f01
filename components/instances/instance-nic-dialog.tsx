"use client";
// "Add a NIC" and "Move a NIC": a subnet of any of the tenant's VPCs and, optionally, a fixed address (empty: the
// subnet's next free one). An added NIC appears in the running server without a reboot, in the VPC's default
// security group; a moved NIC is unplugged and plugged back with the same MAC (eth number kept) and an address of the
// new subnet (the old one is released; in another VPC it gets that VPC's default group). A taken or out-of-range
// address is shown on the address field.
import { useMutation, useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { useTRPC } from "@/components/trpc";
import { Field, Options } from "@/components/ui/form";
import { FormDialog } from "@/components/ui/form-dialog";
import { fieldMessages } from "@/components/ui/server-errors";
import { useDone } from "@/components/ui/use-done";

/** The NIC to move (absent: add a new one). */
export type MovedNic = { portId: string; name: string; subnetId: string };

export function InstanceNicDialog({ tenant, id, name, move, onClose }: { tenant: string; id: string; name: string; move?: MovedNic; onClose: () => void }) {
  const trpc = useTRPC();
  const done = useDone();
  const subnets = useQuery(trpc.subnets.list.queryOptions({ tenant, limit: 200 }));
  const [subnetId, setSubnetId] = useState("");
  const [address, setAddress] = useState("");
  const [unpicked, setUnpicked] = useState(false);
  const onSuccess = () =>
    done(
      move ? `Moving ${move.name}; it keeps its MAC and gets the new subnet's address.` : "Adding the NIC; it appears in the server without a reboot.",
      trpc.instances.pathFilter(),
      onClose,
    );
  const add = useMutation(trpc.instances.addNic.mutationOptions({ onSuccess }));
  const moveNic = useMutation(trpc.instances.moveNic.mutationOptions({ onSuccess }));
  const m = move ? moveNic : add;
  const errors = fieldMessages(m.error, ["subnetId", "address"]);
  const choices = subnets.data?.items.filter((s) => s.id !== move?.subnetId);
  return (
    <FormDialog
      title={move ? `Move ${move.name} of ${name}` : `Add a NIC to ${name}`}
      fields={["subnetId", "address"]}
      loading={m.isPending}
      submitError={m.error}
      dirty={subnetId !== "" || address !== ""}
      submitLabel={move ? "Move NIC" : "Add NIC"}
      onClose={onClose}
      onSubmit={() => {
        setUnpicked(!subnetId);
        if (!subnetId) return;
        const target = { tenant, id, subnetId, address: address.trim() || undefined };
        if (move) moveNic.mutate({ ...target, portId: move.portId });
        else add.mutate(target);
      }}
    >
      <Field
        label={move ? "New subnet" : "Subnet"}
        hint={
          move
            ? "Any other subnet of this tenant's VPCs. The NIC is replugged with the same MAC; in another VPC it gets that VPC's default group."
            : "A subnet of any of this tenant's VPCs; the NIC gets that VPC's default security group."
        }
        error={unpicked ? "Choose a subnet" : errors.subnetId}
      >
        {(p) => (
          <select {...p} value={subnetId} onChange={(e) => setSubnetId(e.target.value)}>
            <option value="">Choose a subnet</option>
            <Options of={choices} value={(s) => s.id} label={(s) => `${s.vpcName} / ${s.name} (${s.cidr})`} />
          </select>
        )}
      </Field>
      <Field label="IP address (optional)" hint="Leave empty for the subnet's next free address." error={errors.address}>
        {(p) => <input {...p} value={address} onChange={(e) => setAddress(e.target.value)} placeholder="e.g. 10.0.1.20" inputMode="decimal" />}
      </Field>
    </FormDialog>
  );
}
