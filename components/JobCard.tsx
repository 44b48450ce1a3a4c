/**
 * A job's card on the dashboard: what it is, when it runs, how its last run
 * and its last 24 hours went, and the actions an admin can take. A failing
 * job's card says so with colour, an icon and words.
 */
import JobToggle from "../islands/JobToggle.tsx";
import RunNowButton from "../islands/RunNowButton.tsx";
import { formatDuration, formatExactUtc, formatPercent, formatRelative } from "../lib/format.ts";
import type { JobSummary } from "../lib/queries/dashboard.ts";
import { StatusBadge, Svg } from "./StatusIcon.tsx";

export interface JobCardProps {
  summary: JobSummary;
  /** Plain English, or null when this version cannot read the stored schedule. */
  scheduleText: string | null;
  nextRunAt: Date | null;
  now: Date;
  isAdmin: boolean;
  /** Whether this instance has the job's code (a job can be newer on another instance). */
  runnableHere: boolean;
}

/** Why "Run now" is unavailable for this job and user, or null when it is available. */
export function runNowBlocker(
  summary: JobSummary,
  isAdmin: boolean,
  runnableHere: boolean,
): string | null {
  const { definition } = summary;
  if (!isAdmin) return "Viewers have read-only access; ask an admin to run this job.";
  if (definition.retiredAt) return "This job is retired: it is no longer defined in code.";
  if (definition.external) return "This job runs outside Jobwatch and reports its runs over the API.";
  if (!definition.enabled) return "This job is disabled; enable it to run it.";
  if (!runnableHere) return "This instance does not have this job's code yet; try again after deploying.";
  return null;
}

export function isFailing(summary: JobSummary): boolean {
  return summary.lastFinished?.status === "failed";
}

function FailingIcon() {
  return (
    <Svg class="h-4 w-4 shrink-0">
      <path d="M10.3 3.9 1.8 18a2 2 0 0 0 1.7 3h17a2 2 0 0 0 1.7-3L13.7 3.9a2 2 0 0 0-3.4 0z" />
      <path d="M12 9v4M12 17h.01" />
    </Svg>
  );
}

function Figure({ label, value, title }: { label: string; value: string; title?: string }) {
  return (
    <div>
      <dt class="text-xs text-gray-500 dark:text-gray-400">{label}</dt>
      <dd class="text-sm font-medium tabular-nums" title={title}>{value}</dd>
    </div>
  );
}

export function JobCard({ summary, scheduleText, nextRunAt, now, isAdmin, runnableHere }: JobCardProps) {
  const { definition, last, lastFinished, day } = summary;
  const failing = isFailing(summary);
  const inactive = !!definition.retiredAt || !definition.enabled;
  const finished = day.completed + day.failures;
  const border = failing && !inactive
    ? "border-red-300 ring-1 ring-red-200 dark:border-red-800 dark:ring-red-900"
    : "border-gray-200 dark:border-gray-800";
  return (
    <article
      class={`flex flex-col rounded-xl border bg-white p-4 dark:bg-gray-900 ${border} ${
        inactive ? "opacity-70" : ""
      }`}
      data-job-id={definition.id}
      data-testid="job-card"
      aria-labelledby={`job-${definition.id}-name`}
    >
      <div class="flex items-start justify-between gap-3">
        <div class="min-w-0">
          <h3 id={`job-${definition.id}-name`} class="font-semibold break-words">
            <a href={`/admin/jobs/${encodeURIComponent(definition.id)}`} class="hover:underline">
              {definition.displayName}
            </a>
          </h3>
          {definition.description && (
            <p class="mt-0.5 text-sm text-gray-500 dark:text-gray-400">{definition.description}</p>
          )}
        </div>
        {last
          ? <StatusBadge status={last.status} />
          : (
            <span class="shrink-0 rounded-full bg-gray-100 px-2 py-0.5 text-xs text-gray-600 dark:bg-gray-800 dark:text-gray-300">
              Never run
            </span>
          )}
      </div>

      {failing && (
        <div
          class="mt-3 flex items-start gap-2 rounded-lg bg-red-50 px-3 py-2 text-sm text-red-800 dark:bg-red-950 dark:text-red-200"
          data-testid="failing"
        >
          <FailingIcon />
          <div class="min-w-0">
            <p class="font-medium">Failing: the last run failed</p>
            {lastFinished?.errorMessage && (
              <p class="mt-0.5 truncate font-mono text-xs" title={lastFinished.errorMessage.slice(0, 500)}>
                {lastFinished.errorMessage.slice(0, 200)}
              </p>
            )}
          </div>
        </div>
      )}

      <p class="mt-3 text-sm">{scheduleText ?? definition.schedule}</p>
      <p class="mt-0.5 break-all font-mono text-xs text-gray-500 dark:text-gray-400">
        {definition.schedule} · {definition.timezone}
      </p>

      <dl class="mt-3 grid grid-cols-2 gap-x-4 gap-y-2">
        <Figure
          label="Next run"
          value={definition.retiredAt
            ? "Retired"
            : !definition.enabled
            ? "Disabled"
            : nextRunAt
            ? formatRelative(nextRunAt, now)
            : "None scheduled"}
          title={nextRunAt && definition.enabled && !definition.retiredAt
            ? formatExactUtc(nextRunAt)
            : undefined}
        />
        <Figure
          label="Last run"
          value={last
            ? `${formatRelative(last.startedAt, now)}${
              last.durationMs !== null ? ` · ${formatDuration(last.durationMs)}` : ""
            }`
            : "—"}
          title={last ? formatExactUtc(last.startedAt) : undefined}
        />
      </dl>

      <div class="mt-3 border-t border-gray-100 pt-3 dark:border-gray-800">
        <p class="text-xs font-medium uppercase tracking-wide text-gray-500 dark:text-gray-400">
          Last 24 hours
        </p>
        <dl class="mt-1 grid grid-cols-3 gap-x-3 gap-y-2 sm:grid-cols-5" data-testid="day-figures">
          <Figure label="Runs" value={String(day.runs)} />
          <Figure label="Failed" value={String(day.failures)} />
          <Figure label="Success" value={finished > 0 ? formatPercent(day.completed / finished) : "—"} />
          <Figure label="Avg" value={day.avgMs !== null ? formatDuration(day.avgMs) : "—"} />
          <Figure label="p95" value={day.p95Ms !== null ? formatDuration(day.p95Ms) : "—"} />
        </dl>
      </div>

      <div class="mt-auto flex flex-wrap items-center gap-2 pt-4">
        {!definition.retiredAt && (
          <RunNowButton
            jobId={definition.id}
            jobName={definition.displayName}
            disabledReason={runNowBlocker(summary, isAdmin, runnableHere)}
          />
        )}
        {isAdmin && !definition.retiredAt && (
          <JobToggle jobId={definition.id} jobName={definition.displayName} enabled={definition.enabled} />
        )}
      </div>
    </article>
  );
}
