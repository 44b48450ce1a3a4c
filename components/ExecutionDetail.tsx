/**
 * One execution in full: outcome, error, result, metadata, log, times and
 * retry links. Client-safe: the history island renders it in an expanded
 * row, and the permalink page /admin/executions/:id renders it on the
 * server. Every value from a job is rendered as text, never as markup.
 */
import type { ComponentChildren } from "preact";
import { useEffect, useState } from "preact/hooks";
import { requestJson } from "../lib/client/api.ts";
import { announceExecution } from "../lib/client/announce.ts";
import { triggerLabel } from "../lib/client/history_rows.ts";
import { formatDuration, formatExactUtc } from "../lib/format.ts";
import type { ExecutionDetail as Execution } from "../lib/history.ts";
import { Spinner, StatusBadge } from "./StatusIcon.tsx";

export interface ExecutionDetailProps {
  execution: Execution;
  /** Whether the viewer may retry (an admin); a retry control shows only for a failed run. */
  canRetry: boolean;
  /**
   * The retry control. Defaults to `<RetryControl>`, which works wherever
   * this renders inside an island; a server-rendered page passes its own
   * island here (e.g. one that renders `<RetryControl>`).
   */
  retry?: ComponentChildren;
}

const PRE = "max-w-full overflow-x-auto whitespace-pre-wrap break-words rounded-lg p-3 font-mono text-xs";
const NEUTRAL =
  "bg-white text-gray-800 ring-1 ring-inset ring-gray-200 dark:bg-gray-900 dark:text-gray-200 dark:ring-gray-800";
const LINK =
  "font-mono text-blue-700 underline hover:text-blue-900 dark:text-blue-400 dark:hover:text-blue-300";

function Field({ label, children }: { label: string; children: ComponentChildren }) {
  return (
    <div class="min-w-0">
      <dt class="text-xs font-medium uppercase tracking-wide text-gray-500 dark:text-gray-400">{label}</dt>
      <dd class="mt-0.5 break-words text-sm">{children}</dd>
    </div>
  );
}

function Instant({ value }: { value: string }) {
  return <time datetime={value}>{formatExactUtc(value)}</time>;
}

function ExecutionLink({ id }: { id: string }) {
  return <a href={`/admin/executions/${encodeURIComponent(id)}`} class={LINK}>{id}</a>;
}

function Block({ title, children }: { title: string; children: ComponentChildren }) {
  return (
    <section class="min-w-0">
      <h3 class="mb-1 text-xs font-medium uppercase tracking-wide text-gray-500 dark:text-gray-400">
        {title}
      </h3>
      {children}
    </section>
  );
}

/** The detail of one execution. */
export function ExecutionDetail({ execution, canRetry, retry }: ExecutionDetailProps) {
  // A handler's stack trace reads better as lines than as one escaped JSON string.
  const { stack, ...rest } = execution.metadata ?? {};
  const metadata = typeof stack === "string" ? rest : execution.metadata ?? {};
  const hasMetadata = Object.keys(metadata).length > 0;
  return (
    <div class="space-y-4">
      <div class="flex flex-wrap items-center gap-3">
        <StatusBadge status={execution.status} />
        <span class="text-sm text-gray-600 dark:text-gray-400">
          {triggerLabel(execution)}
          {execution.retryOf ? " · retry" : ""}
        </span>
        {canRetry && execution.status === "failed" && (
          <div class="ml-auto">{retry ?? <RetryControl executionId={execution.id} />}</div>
        )}
      </div>
      <dl class="grid grid-cols-1 gap-x-6 gap-y-3 sm:grid-cols-2 lg:grid-cols-3">
        <Field label="Execution id">
          <span class="font-mono text-xs">{execution.executionId}</span>
        </Field>
        <Field label="Period">
          <span class="font-mono text-xs">{execution.periodKey}</span>
        </Field>
        <Field label="Duration">
          {execution.status === "running" || execution.durationMs === null
            ? "—"
            : formatDuration(execution.durationMs)}
        </Field>
        <Field label="Started">
          <Instant value={execution.startedAt} />
        </Field>
        <Field label="Completed">
          {execution.completedAt ? <Instant value={execution.completedAt} /> : "Not yet"}
        </Field>
        {execution.exitCode !== null && (
          <Field label="Exit code">
            <span class="font-mono">{execution.exitCode}</span>
          </Field>
        )}
      </dl>
      {(execution.retryOf || execution.retriedAs.length > 0) && (
        <div class="space-y-1 text-sm">
          {execution.retryOf && (
            <p>
              Retry of <ExecutionLink id={execution.retryOf} />
            </p>
          )}
          {execution.retriedAs.length > 0 && (
            <p>
              Retried as {execution.retriedAs.map((id, index) => (
                <span key={id}>
                  {index > 0 && ", "}
                  <ExecutionLink id={id} />
                </span>
              ))}
            </p>
          )}
        </div>
      )}
      {execution.errorMessage !== null && (
        <Block title="Error">
          <pre class={`${PRE} bg-red-50 text-red-800 dark:bg-red-950/40 dark:text-red-300`}>
            {execution.errorMessage}
          </pre>
        </Block>
      )}
      <Block title="Result">
        {execution.result === null || execution.result === undefined
          ? <p class="text-sm text-gray-500 dark:text-gray-400">No result</p>
          : (
            <pre class={`${PRE} ${NEUTRAL}`}>
              {JSON.stringify(execution.result, null, 2)}
            </pre>
          )}
      </Block>
      {typeof stack === "string" && (
        <Block title="Stack trace">
          <pre class={`${PRE} ${NEUTRAL} max-h-96 overflow-y-auto`}>{stack}</pre>
        </Block>
      )}
      {hasMetadata && (
        <Block title="Metadata">
          <pre class={`${PRE} ${NEUTRAL}`}>{JSON.stringify(metadata, null, 2)}</pre>
        </Block>
      )}
      {execution.log && (
        <Block title="Log">
          <pre class={`${PRE} max-h-96 overflow-y-auto bg-gray-900 text-gray-100 dark:bg-black/60`}>
            {execution.log}
          </pre>
        </Block>
      )}
    </div>
  );
}

type RetryState =
  | { kind: "idle" }
  | { kind: "pending" }
  | { kind: "started"; executionId: string }
  | { kind: "failed"; message: string };

/**
 * Retry for a failed run: POSTs /api/admin/executions/:id/retry, then
 * links to the new run and announces it (so a live history shows it at
 * once). Needs an island around it to work.
 */
export function RetryControl(
  { executionId, onStarted }: { executionId: string; onStarted?: (newExecutionId: string) => void },
) {
  const [state, setState] = useState<RetryState>({ kind: "idle" });
  const [hydrated, setHydrated] = useState(false);
  useEffect(() => setHydrated(true), []);

  const retry = async () => {
    setState({ kind: "pending" });
    const answer = await requestJson<{ executionId: string }>(
      `/api/admin/executions/${encodeURIComponent(executionId)}/retry`,
      { method: "POST" },
    );
    if (!answer.ok) return setState({ kind: "failed", message: answer.message });
    setState({ kind: "started", executionId: answer.data.executionId });
    announceExecution(answer.data.executionId);
    onStarted?.(answer.data.executionId);
  };

  if (state.kind === "started") {
    return (
      <p class="text-sm text-green-700 dark:text-green-400" role="status">
        Retry started: <ExecutionLink id={state.executionId} />
      </p>
    );
  }
  return (
    <div class="flex flex-col items-end gap-1">
      <button
        type="button"
        onClick={retry}
        disabled={!hydrated || state.kind === "pending"}
        class="inline-flex items-center gap-2 rounded-md border border-gray-300 bg-white px-3 py-1.5 text-sm font-medium text-gray-800 hover:bg-gray-100 disabled:cursor-not-allowed disabled:opacity-60 dark:border-gray-600 dark:bg-gray-800 dark:text-gray-100 dark:hover:bg-gray-700"
      >
        {state.kind === "pending" && <Spinner />}
        {state.kind === "pending" ? "Retrying…" : "Retry"}
      </button>
      {state.kind === "failed" && (
        <p role="alert" class="max-w-xs text-right text-xs text-red-700 dark:text-red-400">{state.message}</p>
      )}
    </div>
  );
}
