// "/" sends each person where they work.
import { redirect } from "next/navigation";
import { getViewer, homeOf } from "@/server/auth/session";

export default async function Home() {
  const v = await getViewer();
  redirect(v ? homeOf(v) : "/login");
}
