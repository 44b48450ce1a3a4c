/**
 * What alerting's parts share: the kinds of alert, the facts an alert is
 * rendered from, and what a delivery channel answers.
 */

/**
 * - failure: the 1st failure of a streak, then every `every`-th;
 * - reminder: the job is still failing after `remindEvery`;
 * - recovery: a failing job completed again;
 * - warning: a completed run was faster than minDurationMs or slower than maxDurationMs;
 * - overdue: the job has not started within its expected time plus grace;
 * - back_on_schedule: an overdue job started again.
 */
export type AlertKind = "failure" | "reminder" | "recovery" | "warning" | "overdue" | "back_on_schedule";

export const ALERT_KINDS: readonly AlertKind[] = [
  "failure",
  "reminder",
  "recovery",
  "warning",
  "overdue",
  "back_on_schedule",
];

export type AlertChannelName = "email" | "webhook";

/**
 * - pending: waiting for its next attempt;
 * - sending: claimed by a worker (or by one that died: sent again after its lease);
 * - sent: the provider accepted it;
 * - failed: gave up (a permanent error, or too many attempts);
 * - suppressed: the job was snoozed;
 * - not_sent: the channel is not configured (e.g. no RESEND_API_KEY) or had no recipients.
 */
export type DeliveryState = "pending" | "sending" | "sent" | "failed" | "suppressed" | "not_sent";

/** The facts an alert's messages are rendered from (stored as alerts.details); times are ISO strings. */
export interface AlertDetails {
  /** failure, reminder: failures in a row; recovery: how many failed before it recovered. */
  consecutiveFailures?: number;
  /** failure, reminder: the latest run's error, at most MAX_ALERT_ERROR_CHARS. */
  errorMessage?: string | null;
  /** The run's period, trigger, start, end and duration (alerts raised by a run). */
  periodKey?: string;
  trigger?: string;
  startedAt?: string;
  completedAt?: string | null;
  durationMs?: number | null;
  /** reminder, recovery: when the streak's first failure finished. */
  failingSince?: string;
  /** recovery: from the first failure's end to the recovering run's end. */
  downForMs?: number;
  /** warning: which bound the run crossed, and the bound. */
  warning?: "fast" | "slow";
  limitMs?: number;
  /** overdue: the deadline it missed, and its last start (null: it never started). */
  expectedBy?: string;
  lastStartedAt?: string | null;
  /** back_on_schedule: how long it was overdue. */
  overdueForMs?: number;
}

/** Error texts in alerts are cut to this many characters. */
export const MAX_ALERT_ERROR_CHARS = 4 * 1024;

/** An alert as the channels and pages see it. */
export interface AlertRecord {
  id: string;
  kind: AlertKind;
  jobId: string;
  jobName: string;
  executionId: string | null;
  details: AlertDetails;
  createdAt: Date;
}

/** What a channel reports for one delivery attempt. */
export type DeliveryResult =
  | { outcome: "sent"; providerId: string | null }
  /** Worth trying again: a 429, a 5xx, a timeout or a network error. */
  | { outcome: "retry"; error: string; retryAfterMs: number | null }
  /** Trying again will not help (e.g. 400, 401, 403, 422). */
  | { outcome: "failed"; error: string };

/** A configured way out: Resend e-mail or the webhook. */
export interface AlertChannel {
  name: AlertChannelName;
  /**
   * Sends one alert. `recipients` are the outbox row's (e-mail addresses);
   * `idempotencyKey` is the same on every attempt for that row. Never
   * throws: every failure is a `DeliveryResult`.
   */
  deliver(
    alert: AlertRecord,
    recipients: string[],
    idempotencyKey: string,
    signal: AbortSignal,
  ): Promise<DeliveryResult>;
}
