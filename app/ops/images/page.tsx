// Operator console: system-disk images (components/storage/images-page.tsx).
import { ImagesPage } from "@/components/storage/images-page";

export const metadata = { title: "Images" };

export default function Page() {
  return <ImagesPage />;
}
