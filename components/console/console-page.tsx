// A serial console page, full height: "Console: <name>", what it is, a link back, and the console itself. The
// operator's node console and the tenant's instance console differ only in what they name and link to.
import Link from "next/link";
import { SerialConsole } from "./console";

export function ConsolePage({
  name,
  kind,
  back,
  backLabel,
  ...console
}: { name: string; kind: string; back: string; backLabel: string } & React.ComponentProps<typeof SerialConsole>) {
  return (
    <div className="flex h-[calc(100dvh-7rem)] min-h-96 flex-col gap-3">
      <div className="flex items-baseline gap-3">
        <h1 className="text-2xl font-semibold tracking-tight">
          Console: <span className="font-mono">{name}</span>
        </h1>
        <span className="text-sm text-zinc-500">{kind}</span>
        <Link href={back} className="text-sm text-sky-700 underline dark:text-sky-400">
          {backLabel}
        </Link>
      </div>
      <SerialConsole {...console} />
    </div>
  );
}
