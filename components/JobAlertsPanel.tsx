/**
 * A job's alerting on its page: the policy in words, where the job stands,
 * the snooze (with plain forms for admins), and its latest alerts.
 */
import { describeAlertPolicy } from "../lib/alerts/policy_words.ts";
import { SNOOZE_DURATIONS } from "../lib/alerts/snooze.ts";
import { formatExactUtc, formatRelative } from "../lib/format.ts";
import type { AlertListItem, JobAlertStatus } from "../lib/queries/alert_views.ts";
import { AlertList } from "./AlertList.tsx";

/** A refused snooze form: which field and why. */
export interface SnoozeFormError {
  field: "for" | "until";
  message: string;
  /** What was typed in `until`, to show it again. */
  value?: string;
}

export interface JobAlertsPanelProps {
  jobId: string;
  status: JobAlertStatus;
  alerts: AlertListItem[];
  isAdmin: boolean;
  now: Date;
  snoozeError: SnoozeFormError | null;
}

const BUTTON =
  "rounded-lg border border-gray-300 px-3 py-1.5 text-sm font-medium hover:bg-gray-100 dark:border-gray-700 dark:hover:bg-gray-800";
const LINK = "text-blue-700 hover:underline dark:text-blue-300";

function Instant({ date, now }: { date: Date; now: Date }) {
  return (
    <time datetime={date.toISOString()} title={formatExactUtc(date)}>
      {formatRelative(date, now)}
    </time>
  );
}

function CurrentState({ status, now }: { status: JobAlertStatus; now: Date }) {
  const lines = [];
  if (status.consecutiveFailures > 0) {
    lines.push(
      <li class="font-medium text-red-700 dark:text-red-400">
        Failing: {status.consecutiveFailures} {status.consecutiveFailures === 1 ? "run" : "runs"} in a row
        {status.failingSince && (
          <>
            , since <Instant date={status.failingSince} now={now} />
          </>
        )}
      </li>,
    );
  }
  if (status.overdueSince) {
    lines.push(
      <li class="font-medium text-amber-700 dark:text-amber-400">
        Overdue since <Instant date={status.overdueSince} now={now} />
      </li>,
    );
  }
  if (status.durationWarning) {
    lines.push(
      <li class="text-amber-700 dark:text-amber-400">
        The last completed run was {status.durationWarning === "fast" ? "faster" : "slower"} than expected.
      </li>,
    );
  }
  if (lines.length === 0) lines.push(<li class="font-medium text-green-700 dark:text-green-400">OK</li>);
  return <ul data-testid="alert-state">{lines}</ul>;
}

function SnoozeForm({ jobId, error, now }: { jobId: string; error: SnoozeFormError | null; now: Date }) {
  const max = new Date(now.getTime() + 30 * 24 * 60 * 60 * 1000);
  const untilError = error?.field === "until";
  return (
    <form
      method="post"
      action={`/admin/jobs/${encodeURIComponent(jobId)}/snooze`}
      class="mt-3 flex flex-wrap items-end gap-2"
      aria-label="Snooze alerts"
    >
      <fieldset class="flex flex-wrap items-center gap-2">
        <legend class="mb-1 text-xs font-medium text-gray-600 dark:text-gray-300">Snooze for</legend>
        {Object.entries(SNOOZE_DURATIONS).map(([value, { label }]) => (
          <button
            key={value}
            type="submit"
            name="for"
            value={value}
            class={BUTTON}
            aria-label={`Snooze for ${label}`}
          >
            {label}
          </button>
        ))}
      </fieldset>
      <label class="block text-xs font-medium text-gray-600 dark:text-gray-300">
        or until (UTC)
        <input
          type="datetime-local"
          name="until"
          min={now.toISOString().slice(0, 16)}
          max={max.toISOString().slice(0, 16)}
          value={untilError ? error.value : undefined}
          aria-invalid={untilError ? "true" : undefined}
          aria-describedby={error ? "snooze-error" : undefined}
          class="mt-1 block rounded-lg border border-gray-300 bg-white px-2 py-1.5 text-sm dark:border-gray-700 dark:bg-gray-800"
        />
      </label>
      <button type="submit" class={BUTTON}>Snooze until</button>
      {error && (
        <p
          id="snooze-error"
          role="alert"
          class="w-full text-xs text-red-700 dark:text-red-300"
          data-testid={`error-snooze-${error.field}`}
        >
          {error.message}
        </p>
      )}
    </form>
  );
}

/** The Alerts section of a job's page. */
export function JobAlertsPanel({ jobId, status, alerts, isAdmin, now, snoozeError }: JobAlertsPanelProps) {
  const snoozed = status.snoozedUntil !== null && status.snoozedUntil > now ? status.snoozedUntil : null;
  const path = `/admin/jobs/${encodeURIComponent(jobId)}`;
  return (
    <section
      id="alerts"
      aria-labelledby="alerts-heading"
      class="rounded-xl border border-gray-200 bg-white p-4 dark:border-gray-800 dark:bg-gray-900"
    >
      <h2 id="alerts-heading" class="font-semibold">Alerts</h2>
      <p class="mt-1 text-sm text-gray-600 dark:text-gray-300" data-testid="alert-policy">
        {describeAlertPolicy(status.policy)}
      </p>
      <div class="mt-3 grid gap-3 text-sm sm:grid-cols-2">
        <div>
          <h3 class="text-xs font-medium uppercase tracking-wide text-gray-500 dark:text-gray-400">Now</h3>
          <CurrentState status={status} now={now} />
        </div>
        <div data-testid="snooze-status">
          <h3 class="text-xs font-medium uppercase tracking-wide text-gray-500 dark:text-gray-400">Snooze</h3>
          {snoozed
            ? (
              <div class="flex flex-wrap items-center gap-2">
                <p>
                  Snoozed until{" "}
                  <time datetime={snoozed.toISOString()} title={formatRelative(snoozed, now)}>
                    {formatExactUtc(snoozed)}
                  </time>
                  {status.snoozedBy && <span class="ml-1 break-all">by {status.snoozedBy}</span>}
                  <span class="block text-xs text-gray-500 dark:text-gray-400">
                    Alerts raised until then are recorded, not delivered.
                  </span>
                </p>
                {isAdmin && (
                  <form method="post" action={`${path}/unsnooze`}>
                    <button type="submit" class={BUTTON}>Unsnooze</button>
                  </form>
                )}
              </div>
            )
            : <p>Not snoozed: alerts are delivered as they are raised.</p>}
        </div>
      </div>
      {isAdmin && <SnoozeForm jobId={jobId} error={snoozeError} now={now} />}

      <h3 class="mb-2 mt-4 text-xs font-medium uppercase tracking-wide text-gray-500 dark:text-gray-400">
        Latest alerts
      </h3>
      {alerts.length > 0
        ? <AlertList alerts={alerts} now={now} showJob={false} />
        : <p class="text-sm text-gray-500 dark:text-gray-400">No alerts have been raised for this job.</p>}
      <p class="mt-3 text-sm">
        <a class={LINK} href={`/admin/alerts?jobId=${encodeURIComponent(jobId)}`}>All alerts for this job</a>
      </p>
    </section>
  );
}
