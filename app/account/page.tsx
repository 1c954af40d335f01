// /account opens on Security (password, two-factor); the other sections are in the side menu.
import { redirect } from "next/navigation";

export default function Page() {
  redirect("/account/security");
}
