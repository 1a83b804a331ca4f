import { useState } from "react";
import { api, errorText } from "../../stores/connection.ts";
import { useObjectsStore } from "../../stores/objects.ts";

/**
 * The objects table's reset: every object of the class filtered on, or of
 * the project. Each object's storage and alarm are deleted after a snapshot
 * of them (restore one from its page); the objects wake empty.
 */
export function ResetStateButton({ className }: { readonly className: string }) {
  const [busy, setBusy] = useState(false);
  const [said, setSaid] = useState<{ text: string; error: boolean } | null>(null);
  const what = className ? `every ${className} object` : "every object of the project";
  return (
    <>
      {said ? (
        <span className={said.error ? "error" : "notice"} data-testid="reset-status" role="status">
          {said.text}
        </span>
      ) : null}
      <button
        type="button"
        className="danger"
        disabled={busy}
        onClick={() => {
          if (
            !window.confirm(
              `Reset the state of ${what}?\n\nEach one's storage and alarm are deleted, after a snapshot of them ` +
                "(restore it from the object's Snapshots tab). The objects stay, and wake empty.",
            )
          )
            return;
          setBusy(true);
          setSaid(null);
          void api()
            .resetState(className ? { className } : { all: true })
            .then(
              (r) =>
                setSaid({
                  text: `Reset ${r.objects} object${r.objects === 1 ? "" : "s"}; a snapshot of each was kept.`,
                  error: false,
                }),
              (e: unknown) => setSaid({ text: errorText(e), error: true }),
            )
            .finally(() => {
              setBusy(false);
              void useObjectsStore.getState().load();
            });
        }}
      >
        {className ? `Reset ${className}…` : "Reset all…"}
      </button>
    </>
  );
}
