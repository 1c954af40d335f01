// /account has one section for now: API tokens.
import { redirect } from "next/navigation";

export default function Page() {
  redirect("/account/tokens");
}
