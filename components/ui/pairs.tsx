// Label/value pairs inside a <dl> (a detail dialog's facts): the label muted, the value as given, with the value's
// own class where it needs one (monospace ids). `false`/`null` entries are facts this record does not have.
import { Fragment } from "react";

export function Pairs({ pairs }: { pairs: readonly (readonly [label: string, value: React.ReactNode, className?: string] | false | null)[] }) {
  return (
    <>
      {pairs.map((p) =>
        p ? (
          <Fragment key={p[0]}>
            <dt className="text-zinc-500">{p[0]}</dt>
            <dd className={p[2]}>{p[1]}</dd>
          </Fragment>
        ) : null,
      )}
    </>
  );
}
