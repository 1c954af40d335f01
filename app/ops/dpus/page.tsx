// Operator console: DPUs (firmware/OS versions, agent heartbeat, BMC health, power).
import { DpusPage } from "@/components/nodes/dpus-page";

export const metadata = { title: "DPUs" };

export default function Page() {
  return <DpusPage />;
}
