import { useEffect, useRef, useState } from "preact/hooks";
import { ExecutionDetail, RetryControl } from "../components/ExecutionDetail.tsx";
import { Spinner, STATUS_LABELS, StatusIcon, Svg } from "../components/StatusIcon.tsx";
import { requestJson } from "../lib/client/api.ts";
import { onExecutionAnnounced } from "../lib/client/announce.ts";
import { type HistoryFilters, mergeRows, triggerLabel } from "../lib/client/history_rows.ts";
import { type LiveState, openLiveStream } from "../lib/client/live_stream.ts";
import { formatDuration, formatExactUtc, formatRelative } from "../lib/format.ts";
import type { ExecutionDetail as Detail, ExecutionRow } from "../lib/history.ts";

export interface ExecutionHistoryProps {
  rows: ExecutionRow[];
  /** Whether the viewer may retry failed runs (an admin). */
  canRetry: boolean;
  /** Follow new runs and state changes; true on the first page only. */
  live: boolean;
  filters: HistoryFilters;
  /** The server's "now" (ISO) when it rendered the page; relative times follow its clock. */
  renderedAt: string;
  /** The event stream: /api/admin/events, or with ?jobId= on a job's page. */
  eventsUrl: string;
  /** Whether older rows exist on later pages; when not, every matching new run belongs here. */
  hasOlder: boolean;
}

/** Changes arriving within this window are fetched in one request. */
const BATCH_MS = 200;
const RELATIVE_TIME_REFRESH_MS = 30_000;
/** The server's limit on `ids` per request. */
const MAX_IDS = 100;
const NEWEST_LIMIT = 50;

/**
 * The execution history: rows rendered on the server, hydrated to expand
 * in place, retry, and (on the first page) follow runs live over
 * /api/admin/events. Each row keeps a plain link to its permalink page, so
 * everything can be reached without JavaScript.
 */
export default function ExecutionHistory(props: ExecutionHistoryProps) {
  const { canRetry, live, filters, renderedAt, eventsUrl, hasOlder } = props;
  const [rows, setRows] = useState(props.rows);
  const [liveState, setLiveState] = useState<LiveState | null>(null);
  // Server clock minus browser clock, fixed at hydration; null while rendering on the server.
  const [clockOffset, setClockOffset] = useState<number | null>(null);
  const [, setTick] = useState(0);
  const rowsRef = useRef(rows);
  rowsRef.current = rows;

  useEffect(() => {
    setClockOffset(Date.parse(renderedAt) - Date.now());
    const timer = setInterval(() => setTick((tick) => tick + 1), RELATIVE_TIME_REFRESH_MS);
    return () => clearInterval(timer);
  }, []);

  useEffect(() => {
    if (!live) return;
    const pending = new Set<string>();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const merge = (fresh: ExecutionRow[]) =>
      setRows((current) => mergeRows(current, fresh, filters, { hasOlder }));

    const flush = async () => {
      timer = undefined;
      const ids = [...pending];
      pending.clear();
      for (let start = 0; start < ids.length; start += MAX_IDS) {
        const batch = ids.slice(start, start + MAX_IDS).map(encodeURIComponent).join(",");
        const answer = await requestJson<{ executions: ExecutionRow[] }>(
          `/api/admin/executions?ids=${batch}`,
        );
        if (answer.ok) merge(answer.data.executions);
      }
    };
    const queue = (executionId: string) => {
      pending.add(executionId);
      timer ??= setTimeout(flush, BATCH_MS);
    };
    // After a gap in the stream, runs may have started that no event will mention again soon.
    const fetchNewest = async () => {
      const params = new URLSearchParams();
      for (const [key, value] of Object.entries(filters)) if (value) params.set(key, value);
      params.set("limit", String(NEWEST_LIMIT));
      const answer = await requestJson<{ executions?: ExecutionRow[] }>(`/api/admin/jobs?${params}`);
      if (answer.ok && Array.isArray(answer.data?.executions)) merge(answer.data.executions);
    };

    const stopListening = onExecutionAnnounced(queue);
    const closeStream = openLiveStream(eventsUrl, {
      onChange: (change) => queue(change.executionId),
      onState: setLiveState,
      onOpen: (afterError) => {
        // Runs shown as running may have finished before the stream opened.
        for (const row of rowsRef.current) if (row.status === "running") queue(row.id);
        if (afterError) fetchNewest();
      },
    });
    return () => {
      stopListening();
      closeStream();
      clearTimeout(timer);
    };
  }, []);

  const now = clockOffset === null ? Date.parse(renderedAt) : Date.now() + clockOffset;
  return (
    <section aria-label="Execution history" class="min-w-0">
      <div class="mb-2 flex min-h-[1.25rem] items-center justify-end text-xs text-gray-500 dark:text-gray-400">
        {live
          ? liveState && <LiveIndicator state={liveState} />
          : <p>Live updates are paused on older pages.</p>}
      </div>
      {rows.length === 0
        ? (
          <p class="rounded-xl border border-dashed border-gray-300 bg-white px-4 py-10 text-center text-sm text-gray-500 dark:border-gray-700 dark:bg-gray-900 dark:text-gray-400">
            No executions match these filters.
          </p>
        )
        : (
          <div class="overflow-hidden rounded-xl border border-gray-200 bg-white dark:border-gray-800 dark:bg-gray-900">
            <div
              aria-hidden="true"
              class="hidden gap-x-3 border-b border-gray-200 px-4 py-2 text-xs font-medium uppercase tracking-wide text-gray-500 dark:border-gray-800 dark:text-gray-400 sm:flex"
            >
              <span class="w-32 shrink-0">Status</span>
              <span class="min-w-0 flex-1">Job</span>
              <span class="w-44 shrink-0">Trigger</span>
              <span class="w-32 shrink-0">Started</span>
              <span class="w-20 shrink-0 text-right">Duration</span>
              <span class="w-14 shrink-0" />
            </div>
            <ul>
              {rows.map((row) => <HistoryRow key={row.id} row={row} now={now} canRetry={canRetry} />)}
            </ul>
          </div>
        )}
    </section>
  );
}

function LiveIndicator({ state }: { state: LiveState }) {
  return (
    <p role="status" class="flex items-center gap-1.5" data-live-state={state}>
      <span
        aria-hidden="true"
        class={`h-2 w-2 rounded-full ${state === "live" ? "bg-green-500" : "animate-pulse bg-amber-500"}`}
      />
      {state === "live" ? "Live" : state === "connecting" ? "Connecting…" : "Reconnecting…"}
    </p>
  );
}

type DetailState =
  | { kind: "idle" | "loading" }
  | { kind: "loaded"; execution: Detail }
  | { kind: "failed"; message: string };

function HistoryRow({ row, now, canRetry }: { row: ExecutionRow; now: number; canRetry: boolean }) {
  const [expanded, setExpanded] = useState(false);
  const [detail, setDetail] = useState<DetailState>({ kind: "idle" });
  const [version, setVersion] = useState(0);
  const panelId = `execution-${row.id}`;
  const startedAt = Date.parse(row.startedAt);

  useEffect(() => {
    if (!expanded) return;
    const controller = new AbortController();
    setDetail((current) => current.kind === "loaded" ? current : { kind: "loading" });
    requestJson<Detail>(`/api/admin/executions/${encodeURIComponent(row.id)}`, { signal: controller.signal })
      .then((answer) => {
        if (controller.signal.aborted) return;
        setDetail(
          answer.ok
            ? { kind: "loaded", execution: answer.data }
            : { kind: "failed", message: answer.message },
        );
      });
    return () => controller.abort();
  }, [expanded, row.status, row.completedAt, version]);

  return (
    <li class="border-b border-gray-200 last:border-b-0 dark:border-gray-800">
      <div class="relative flex flex-wrap items-center gap-x-3 gap-y-1 px-3 py-2.5 hover:bg-gray-50 dark:hover:bg-gray-800/50 sm:flex-nowrap sm:px-4">
        <button
          type="button"
          // A string: the server renders a false boolean as no attribute, and hydration keeps it.
          aria-expanded={expanded ? "true" : "false"}
          aria-controls={panelId}
          onClick={() => setExpanded(!expanded)}
          class="flex shrink-0 items-center gap-1.5 rounded text-left text-sm font-medium after:absolute after:inset-0 focus-visible:outline-none focus-visible:ring-2 focus-visible:ring-blue-500 sm:w-32"
        >
          <Svg
            class={`h-3.5 w-3.5 shrink-0 text-gray-400 transition-transform ${expanded ? "rotate-90" : ""}`}
          >
            <path d="m9 18 6-6-6-6" />
          </Svg>
          <StatusIcon status={row.status} />
          <span>{STATUS_LABELS[row.status]}</span>
          <span class="sr-only">run of {row.jobName}: details</span>
        </button>
        <a
          href={`/admin/jobs/${encodeURIComponent(row.jobId)}`}
          class="relative z-10 min-w-0 flex-1 truncate text-sm font-medium text-gray-900 hover:underline dark:text-gray-100"
        >
          {row.jobName}
        </a>
        <div class="flex w-full flex-wrap items-center gap-x-3 gap-y-1 pl-5 text-sm text-gray-600 dark:text-gray-400 sm:contents">
          <span class="flex min-w-0 items-center gap-1.5 sm:w-44 sm:shrink-0">
            <span class="truncate">{triggerLabel(row)}</span>
            {row.retryOf && (
              <span class="shrink-0 rounded bg-amber-100 px-1.5 text-xs font-medium text-amber-800 dark:bg-amber-900/40 dark:text-amber-300">
                retry
              </span>
            )}
          </span>
          <time
            datetime={row.startedAt}
            title={formatExactUtc(row.startedAt)}
            class="relative z-10 sm:w-32 sm:shrink-0"
          >
            {formatRelative(row.startedAt, Math.max(now, startedAt))}
          </time>
          <span class="tabular-nums sm:w-20 sm:shrink-0 sm:text-right">
            <span class="sr-only">Duration:</span>
            {row.status === "running" || row.durationMs === null ? "—" : formatDuration(row.durationMs)}
          </span>
          <a
            href={`/admin/executions/${encodeURIComponent(row.id)}`}
            class="relative z-10 ml-auto text-blue-700 hover:underline dark:text-blue-400 sm:w-14 sm:shrink-0 sm:text-right"
          >
            Details
          </a>
        </div>
      </div>
      <div
        id={panelId}
        hidden={!expanded}
        class="border-t border-gray-200 bg-gray-50 px-3 py-4 dark:border-gray-800 dark:bg-gray-950/40 sm:px-4"
      >
        {expanded && (
          <RowDetail
            state={detail}
            canRetry={canRetry}
            onRetried={() => setVersion((v) => v + 1)}
          />
        )}
      </div>
    </li>
  );
}

function RowDetail(
  { state, canRetry, onRetried }: { state: DetailState; canRetry: boolean; onRetried: () => void },
) {
  if (state.kind === "loaded") {
    return (
      <ExecutionDetail
        execution={state.execution}
        canRetry={canRetry}
        retry={<RetryControl executionId={state.execution.id} onStarted={onRetried} />}
      />
    );
  }
  if (state.kind === "failed") {
    return (
      <p role="alert" class="text-sm text-red-700 dark:text-red-400">
        Could not load this run's details: {state.message}
      </p>
    );
  }
  return (
    <p class="flex items-center gap-2 text-sm text-gray-500 dark:text-gray-400">
      <Spinner /> Loading details…
    </p>
  );
}
