import { useEffect, useRef, useState } from "preact/hooks";
import { Spinner } from "../components/StatusIcon.tsx";
import { requestJson } from "../lib/client/api.ts";
import { announceExecution } from "../lib/client/announce.ts";

type State = { kind: "idle" | "pending" | "started" } | { kind: "failed"; message: string };

/** How long "Started" shows before the button is ready again. */
const STARTED_MS = 2500;

/**
 * "Run now" for one job. The server decides whether this user may run it
 * and says why not (`disabledReason`: a viewer, a disabled, external or
 * retired job); the button then stays disabled and carries the reason.
 */
export default function RunNowButton(
  { jobId, jobName, disabledReason }: { jobId: string; jobName: string; disabledReason: string | null },
) {
  const [state, setState] = useState<State>({ kind: "idle" });
  const [hydrated, setHydrated] = useState(false);
  const reset = useRef<ReturnType<typeof setTimeout>>();
  useEffect(() => {
    setHydrated(true);
    return () => clearTimeout(reset.current);
  }, []);

  const run = async () => {
    clearTimeout(reset.current);
    setState({ kind: "pending" });
    const answer = await requestJson<{ executionId: string }>(
      `/api/admin/jobs/${encodeURIComponent(jobId)}/trigger`,
      { method: "POST" },
    );
    if (!answer.ok) return setState({ kind: "failed", message: answer.message });
    setState({ kind: "started" });
    announceExecution(answer.data.executionId);
    reset.current = setTimeout(() => setState({ kind: "idle" }), STARTED_MS);
  };

  const reasonId = `run-now-reason-${jobId}`;
  const busy = state.kind === "pending" || state.kind === "started";
  const label = state.kind === "pending" ? "Triggering…" : state.kind === "started" ? "Started" : "Run now";
  return (
    <div class="flex flex-col items-start gap-1">
      <button
        type="button"
        onClick={run}
        disabled={disabledReason !== null || !hydrated || busy}
        title={disabledReason ?? undefined}
        aria-describedby={disabledReason !== null ? reasonId : undefined}
        aria-label={`${label}: ${jobName}`}
        class="inline-flex items-center gap-2 rounded-md bg-blue-600 px-3 py-1.5 text-sm font-medium text-white hover:bg-blue-700 focus-visible:outline-none focus-visible:ring-2 focus-visible:ring-blue-400 focus-visible:ring-offset-2 disabled:cursor-not-allowed disabled:opacity-60 dark:bg-blue-500 dark:hover:bg-blue-400 dark:focus-visible:ring-offset-gray-900"
      >
        {state.kind === "pending" && <Spinner />}
        {label}
      </button>
      {disabledReason !== null && <span id={reasonId} class="sr-only">{disabledReason}</span>}
      <span class="sr-only" role="status">
        {state.kind === "started" ? `${jobName} started.` : ""}
      </span>
      {state.kind === "failed" && (
        <p role="alert" class="text-xs text-red-700 dark:text-red-400">{state.message}</p>
      )}
    </div>
  );
}
