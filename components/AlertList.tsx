/**
 * A list of alerts with their deliveries, shared by the alerts page, a
 * job's page and an execution's page. Server-only; every value (job names,
 * errors, recipients) is rendered as text.
 */
import { ALERT_KIND_LABELS, alertSummary } from "../lib/alerts/describe.ts";
import type { AlertKind } from "../lib/alerts/types.ts";
import { formatExactUtc, formatRelative } from "../lib/format.ts";
import type { AlertDelivery, AlertListItem } from "../lib/queries/alert_views.ts";

export interface AlertListProps {
  alerts: AlertListItem[];
  now: Date;
  /** Link each alert to its job (off on a job's own page). */
  showJob?: boolean;
  /** Link each alert to the run that raised it (off on that run's page). */
  showExecution?: boolean;
}

const LINK = "text-blue-700 hover:underline dark:text-blue-300";

const KIND_COLOURS: Record<AlertKind, string> = {
  failure: "bg-red-100 text-red-800 dark:bg-red-900/40 dark:text-red-300",
  reminder: "bg-red-100 text-red-800 dark:bg-red-900/40 dark:text-red-300",
  overdue: "bg-amber-100 text-amber-800 dark:bg-amber-900/40 dark:text-amber-300",
  warning: "bg-amber-100 text-amber-800 dark:bg-amber-900/40 dark:text-amber-300",
  recovery: "bg-green-100 text-green-800 dark:bg-green-900/40 dark:text-green-300",
  back_on_schedule: "bg-green-100 text-green-800 dark:bg-green-900/40 dark:text-green-300",
};

type Tone = "good" | "busy" | "bad" | "muted";

const TONES: Record<Tone, string> = {
  good: "text-green-700 dark:text-green-400",
  busy: "text-blue-700 dark:text-blue-300",
  bad: "text-red-700 dark:text-red-400",
  muted: "text-gray-500 dark:text-gray-400",
};

function Instant({ date, now }: { date: Date; now: Date }) {
  return (
    <time datetime={date.toISOString()} title={formatExactUtc(date)}>
      {formatRelative(date, now)}
    </time>
  );
}

/** A delivery's state in words, its tone, and whether its last error is worth showing. */
export function deliveryStatus(delivery: AlertDelivery): { label: string; tone: Tone; showError: boolean } {
  switch (delivery.state) {
    case "sent":
      return { label: "Sent", tone: "good", showError: false };
    case "sending":
      return { label: "Sending", tone: "busy", showError: false };
    case "pending":
      return delivery.attempts > 0
        ? {
          label: `Retrying (attempt ${delivery.attempts + 1}, next at ${
            formatExactUtc(delivery.nextAttemptAt)
          })`,
          tone: "busy",
          showError: true,
        }
        : { label: "Queued", tone: "busy", showError: false };
    case "failed":
      return { label: "Failed", tone: "bad", showError: true };
    case "not_sent":
      return { label: "Not sent", tone: "bad", showError: true };
    case "suppressed":
      return { label: "Snoozed", tone: "muted", showError: false };
  }
}

function recipientsText(delivery: AlertDelivery): string {
  if (delivery.recipients.length === 0) return "no recipients";
  return `to ${delivery.recipients.join(", ")}`;
}

function DeliveryLine({ delivery, now }: { delivery: AlertDelivery; now: Date }) {
  const status = deliveryStatus(delivery);
  const failed = delivery.state === "failed";
  return (
    <li
      class={`rounded-md px-2 py-1 text-xs ${
        failed ? "bg-red-50 ring-1 ring-inset ring-red-200 dark:bg-red-950/40 dark:ring-red-900" : ""
      }`}
      data-testid="alert-delivery"
      data-state={delivery.state}
    >
      <span class="font-medium">{delivery.channel === "email" ? "E-mail" : "Webhook"}</span>{" "}
      <span class={`font-medium ${TONES[status.tone]}`}>{status.label}</span>{" "}
      <span class="break-all text-gray-600 dark:text-gray-300">{recipientsText(delivery)}</span>
      {delivery.sentAt && (
        <span class="ml-1 text-gray-500 dark:text-gray-400">
          · sent <Instant date={delivery.sentAt} now={now} />
        </span>
      )}
      {failed && (
        <span class="ml-1 text-gray-500 dark:text-gray-400">
          · gave up after {delivery.attempts} {delivery.attempts === 1 ? "attempt" : "attempts"}
          {delivery.lastAttemptAt && (
            <>
              , last <Instant date={delivery.lastAttemptAt} now={now} />
            </>
          )}
        </span>
      )}
      {status.showError && delivery.lastError && (
        <span
          class="mt-0.5 block whitespace-pre-wrap break-words font-mono text-red-700 dark:text-red-400"
          data-testid="delivery-error"
        >
          {delivery.lastError}
        </span>
      )}
    </li>
  );
}

function AlertItem(
  { alert, now, showJob, showExecution }: {
    alert: AlertListItem;
    now: Date;
    showJob: boolean;
    showExecution: boolean;
  },
) {
  const failed = alert.deliveries.some((delivery) => delivery.state === "failed");
  return (
    <li
      class={`px-4 py-3 text-sm ${failed ? "border-l-4 border-red-500 dark:border-red-500" : ""}`}
      data-testid="alert"
      data-alert-id={alert.id}
    >
      <div class="flex flex-wrap items-center gap-x-3 gap-y-1">
        <span class="text-gray-500 dark:text-gray-400">
          <Instant date={alert.createdAt} now={now} />
        </span>
        <span class={`rounded-full px-2 py-0.5 text-xs font-medium ${KIND_COLOURS[alert.kind]}`}>
          {ALERT_KIND_LABELS[alert.kind] ?? alert.kind}
        </span>
        {showJob && (
          <a class={`font-medium ${LINK}`} href={`/admin/jobs/${encodeURIComponent(alert.jobId)}`}>
            {alert.jobName}
          </a>
        )}
        {showExecution && alert.executionId && (
          <a
            class={`font-mono text-xs ${LINK}`}
            href={`/admin/executions/${encodeURIComponent(alert.executionId)}`}
          >
            run {alert.executionId.slice(0, 8)}
          </a>
        )}
        {failed && (
          <span class="text-xs font-semibold text-red-700 dark:text-red-400" data-testid="alert-undelivered">
            Delivery failed
          </span>
        )}
      </div>
      <p class="mt-1 break-words">{alertSummary(alert)}</p>
      {alert.deliveries.length > 0
        ? (
          <ul class="mt-1 space-y-0.5" aria-label="Deliveries">
            {alert.deliveries.map((delivery) => (
              <DeliveryLine key={delivery.id} delivery={delivery} now={now} />
            ))}
          </ul>
        )
        : (
          <p class="mt-1 text-xs text-gray-500 dark:text-gray-400">
            {alert.suppressed
              ? "Raised while the job was snoozed: recorded, not delivered."
              : "No delivery was queued for this alert."}
          </p>
        )}
    </li>
  );
}

/** The alerts, newest first as given, each with its deliveries. */
export function AlertList({ alerts, now, showJob = true, showExecution = true }: AlertListProps) {
  return (
    <ol class="divide-y divide-gray-100 rounded-xl border border-gray-200 bg-white dark:divide-gray-800 dark:border-gray-800 dark:bg-gray-900">
      {alerts.map((alert) => (
        <AlertItem key={alert.id} alert={alert} now={now} showJob={showJob} showExecution={showExecution} />
      ))}
    </ol>
  );
}
