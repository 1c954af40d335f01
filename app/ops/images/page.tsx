// Operator console: system-disk images (components/storage/images-page.tsx); the first page is prefetched on the server.
import { ImagesPage } from "@/components/storage/images-page";
import { Prefetch } from "@/server/api/prefetch";

export const metadata = { title: "Images" };

export default function Page() {
  return (
    <Prefetch queries={(trpc) => [trpc.images.list.queryOptions({ cursor: null })]}>
      <ImagesPage />
    </Prefetch>
  );
}
