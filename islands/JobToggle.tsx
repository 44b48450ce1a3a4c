import { useEffect, useRef, useState } from "preact/hooks";
import { Spinner } from "../components/StatusIcon.tsx";
import { requestJson } from "../lib/client/api.ts";

type State = { kind: "idle" | "confirming" | "pending" } | { kind: "failed"; message: string };

const BUTTON =
  "inline-flex items-center gap-2 rounded-md px-3 py-1.5 text-sm font-medium focus-visible:outline-none focus-visible:ring-2 focus-visible:ring-blue-400 disabled:cursor-not-allowed disabled:opacity-60";
const QUIET =
  `${BUTTON} border border-gray-300 bg-white text-gray-800 hover:bg-gray-100 dark:border-gray-600 dark:bg-gray-800 dark:text-gray-100 dark:hover:bg-gray-700`;

/**
 * Enable/disable for one job (admins only), with an inline confirmation.
 * On success the page reloads: the server decides where the job's card
 * belongs now.
 */
export default function JobToggle(
  { jobId, jobName, enabled }: { jobId: string; jobName: string; enabled: boolean },
) {
  const [state, setState] = useState<State>({ kind: "idle" });
  const [hydrated, setHydrated] = useState(false);
  const toggle = useRef<HTMLButtonElement>(null);
  const confirm = useRef<HTMLButtonElement>(null);
  const wasAsking = useRef(false);
  useEffect(() => setHydrated(true), []);
  useEffect(() => {
    // Move focus into the confirmation and back, so keyboard users are not left on a removed button.
    const asking = state.kind === "confirming" || state.kind === "pending";
    if (state.kind === "confirming") confirm.current?.focus();
    else if (wasAsking.current && !asking) toggle.current?.focus();
    wasAsking.current = asking;
  }, [state.kind]);

  const action = enabled ? "Disable" : "Enable";
  const save = async () => {
    setState({ kind: "pending" });
    const answer = await requestJson(`/api/admin/jobs/${encodeURIComponent(jobId)}/enabled`, {
      method: "POST",
      body: { enabled: !enabled },
    });
    if (!answer.ok) return setState({ kind: "failed", message: answer.message });
    location.reload();
  };

  if (state.kind === "confirming" || state.kind === "pending") {
    return (
      <div
        role="group"
        aria-label={`${action} ${jobName}`}
        class="flex flex-wrap items-center gap-2 rounded-lg border border-amber-300 bg-amber-50 p-2 text-sm dark:border-amber-700 dark:bg-amber-900/30"
        onKeyDown={(event) => {
          if (event.key === "Escape" && state.kind === "confirming") setState({ kind: "idle" });
        }}
      >
        <p class="w-full text-amber-900 dark:text-amber-100">
          {enabled
            ? `Disable ${jobName}? Scheduled runs stop until it is enabled again.`
            : `Enable ${jobName}? Scheduled runs resume on its schedule.`}
        </p>
        <button
          ref={confirm}
          type="button"
          onClick={save}
          disabled={state.kind === "pending"}
          class={`${BUTTON} ${
            enabled
              ? "bg-red-600 text-white hover:bg-red-700 dark:bg-red-500 dark:hover:bg-red-400"
              : "bg-blue-600 text-white hover:bg-blue-700 dark:bg-blue-500 dark:hover:bg-blue-400"
          }`}
        >
          {state.kind === "pending" && <Spinner />}
          {state.kind === "pending" ? "Saving…" : "Confirm"}
        </button>
        <button
          type="button"
          onClick={() => setState({ kind: "idle" })}
          disabled={state.kind === "pending"}
          class={QUIET}
        >
          Cancel
        </button>
      </div>
    );
  }
  return (
    <div class="flex flex-col items-start gap-1">
      <button
        ref={toggle}
        type="button"
        onClick={() => setState({ kind: "confirming" })}
        disabled={!hydrated}
        aria-label={`${action} ${jobName}`}
        class={QUIET}
      >
        {action}
      </button>
      {state.kind === "failed" && (
        <p role="alert" class="text-xs text-red-700 dark:text-red-400">{state.message}</p>
      )}
    </div>
  );
}
