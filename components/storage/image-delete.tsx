"use client";
// "Delete image" (operator console): refused while volumes depend on it, unless "flatten dependent volumes" copies
// the image's data into each first.
import { useMutation } from "@tanstack/react-query";
import { useState } from "react";
import { errorInfo, useTRPC } from "@/components/trpc";
import { Button } from "@/components/ui/button";
import { Dialog } from "@/components/ui/dialog";
import { useToast } from "@/components/ui/toast";
import { useDone } from "@/components/ui/use-done";

export function ImageDeleteDialog({ image, onClose }: { image: { id: string; name: string; volumeCount: number } | null; onClose: () => void }) {
  const trpc = useTRPC();
  const done = useDone();
  const toast = useToast();
  const [flatten, setFlatten] = useState(false);
  const del = useMutation(
    trpc.images.delete.mutationOptions({
      onSuccess: (r) => {
        onClose();
        return done(`Image ${image?.name} deleted${r.flattened ? `; ${r.flattened} volume(s) now stand alone` : ""}.`, trpc.images.pathFilter());
      },
      onError: (e) => toast("error", errorInfo(e).message),
    }),
  );
  return (
    <Dialog open={!!image} onClose={onClose} title={`Delete image ${image?.name ?? ""}?`}>
      <div className="flex flex-col gap-3 text-sm">
        <p>
          {image?.volumeCount
            ? `${image.volumeCount} volume(s) were cloned from this image. Deleting it needs their data copied in first.`
            : "No volume depends on this image."}
        </p>
        <label className="flex items-center gap-2">
          <input type="checkbox" checked={flatten} onChange={(e) => setFlatten(e.target.checked)} /> Flatten dependent volumes (copy the image's data into each)
        </label>
        <div className="flex justify-end gap-2">
          <Button onClick={onClose}>Cancel</Button>
          <Button variant="danger" busy={del.isPending} onClick={() => image && del.mutate({ id: image.id, flatten })}>
            Delete image
          </Button>
        </div>
      </div>
    </Dialog>
  );
}
