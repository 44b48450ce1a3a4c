/**
 * Raises alerts in the transaction that changes a job's state: a run's
 * outcome is written, the job's alert state row is locked, the policy
 * decides, and the alerts and their outbox rows are inserted before the
 * commit. So an alert exists exactly when its state change does; the
 * worker (lib/alerts/worker.ts) delivers it after.
 */
import type { Config } from "../config.ts";
import { isDatabaseUnavailable, type Queryable, type Sql } from "../db/mod.ts";
import type { Logger } from "../http/context.ts";
import {
  insertAlert,
  listAlertRecipients,
  type LockedAlertState,
  lockFinishedRuns,
  type NewDelivery,
  saveAlertState,
} from "../queries/alerts.ts";
import type { Changed } from "../queries/executions.ts";
import { type AlertDraft, decideOnRun, readAlertPolicy, stateChanged } from "./policy.ts";

/** Which channels a new alert goes out on, from this instance's configuration. */
export interface AlertRouting {
  /** E-mail is always recorded; without RESEND_API_KEY as "not sent". */
  email: { configured: boolean; alertTo: string[] };
  /** The webhook's host, or null when ALERT_WEBHOOK_URL is unset. */
  webhookHost: string | null;
}

/** What the code that finishes runs needs to raise alerts. */
export interface AlertHooks {
  routing: AlertRouting;
  /** Called after a commit that queued deliveries, so they go out now rather than at the next poll. */
  queued(): void;
  /** Where a failure to raise alerts is reported. */
  log?: Logger;
}

export const NOT_SENT_NO_API_KEY = "not sent: no RESEND_API_KEY";
export const NOT_SENT_NO_RECIPIENTS = "not sent: no recipients (no admin users and no ALERT_TO)";

/** E-mail unconfigured and no webhook: alerts are recorded, nothing is sent. */
export const UNROUTED: AlertHooks = {
  routing: { email: { configured: false, alertTo: [] }, webhookHost: null },
  queued: () => {},
};

/** The routing a configuration gives. */
export function routingFromConfig(
  config: Pick<Config, "resend" | "alertTo" | "alertWebhookUrl">,
): AlertRouting {
  return {
    email: { configured: config.resend.apiKey !== null, alertTo: config.alertTo },
    webhookHost: config.alertWebhookUrl ? new URL(config.alertWebhookUrl).host : null,
  };
}

/** Whether a job's alerts are snoozed at `now` (they are still raised, and recorded as suppressed). */
export function isSnoozed(job: { snoozedUntil: Date | null }, now: Date): boolean {
  return job.snoozedUntil !== null && job.snoozedUntil > now;
}

/** Inserts drafts as alerts, each with one outbox row per channel; returns how many deliveries are pending. */
export async function insertAlerts(
  tx: Queryable,
  job: Pick<LockedAlertState, "jobId" | "jobName" | "snoozedUntil">,
  drafts: AlertDraft[],
  routing: AlertRouting,
  now: Date,
): Promise<number> {
  if (drafts.length === 0) return 0;
  const suppressed = isSnoozed(job, now);
  const recipients = await listAlertRecipients(tx, routing.email.alertTo);
  const deliveries: NewDelivery[] = [{
    channel: "email",
    recipients,
    ...(suppressed
      ? { state: "suppressed" as const, note: null }
      : !routing.email.configured
      ? { state: "not_sent" as const, note: NOT_SENT_NO_API_KEY }
      : recipients.length === 0
      ? { state: "not_sent" as const, note: NOT_SENT_NO_RECIPIENTS }
      : { state: "pending" as const, note: null }),
  }];
  if (routing.webhookHost !== null) {
    deliveries.push({
      channel: "webhook",
      recipients: [routing.webhookHost],
      state: suppressed ? "suppressed" : "pending",
      note: null,
    });
  }
  for (const draft of drafts) {
    await insertAlert(
      tx,
      { ...draft, jobId: job.jobId, jobName: job.jobName, suppressed, createdAt: now },
      deliveries,
    );
  }
  return suppressed ? 0 : drafts.length * deliveries.filter((d) => d.state === "pending").length;
}

/**
 * Applies the policy to runs that have just finished (inside the
 * transaction that finished them): updates each job's state and raises its
 * alerts. Returns how many deliveries it queued.
 */
export async function raiseRunAlerts(
  tx: Queryable,
  executionIds: string[],
  routing: AlertRouting,
  now: Date,
): Promise<number> {
  const { runs, states } = await lockFinishedRuns(tx, executionIds);
  let queued = 0;
  for (const job of states.values()) {
    const policy = readAlertPolicy(job.alertPolicy);
    let state = job.state;
    const drafts: AlertDraft[] = [];
    for (const run of runs.filter((r) => r.jobId === job.jobId)) {
      const decision = decideOnRun(state, run, policy, isSnoozed(job, now));
      state = decision.state;
      drafts.push(...decision.alerts);
    }
    if (stateChanged(job.state, state)) await saveAlertState(tx, job.jobId, state, now);
    queued += await insertAlerts(tx, job, drafts, routing, now);
  }
  return queued;
}

/**
 * Runs `write` (a statement that finishes runs) and raises the alerts for
 * what it finished, in one transaction; wakes the delivery worker after the
 * commit when something was queued.
 *
 * Should raising the alerts fail (a bug, a constraint), the transaction is
 * rolled back and `write` runs again alone: the run's outcome is recorded
 * and the miss is logged. A run left running would later be reaped as lost,
 * which is worse. (A savepoint would do the same at two more round trips
 * on every run.)
 */
export async function finishWithAlerts<T extends Changed | Changed[] | null>(
  sql: Sql,
  hooks: AlertHooks,
  now: Date,
  write: (tx: Queryable) => Promise<T>,
): Promise<T> {
  let queued = 0;
  let finished: string[] = [];
  let raising = false;
  try {
    const result = await sql.begin(async (tx) => {
      const changed = await write(tx);
      finished = finishedIds(changed);
      if (finished.length > 0) {
        raising = true;
        queued = await raiseRunAlerts(tx, finished, hooks.routing, now);
        raising = false;
      }
      return changed;
    });
    if (queued > 0) hooks.queued();
    return result as T;
  } catch (error) {
    // A database that went away is not a failure of the alerts: the caller retries the whole transaction.
    if (!raising || isDatabaseUnavailable(error)) throw error;
    const reason = error instanceof Error ? error.message : String(error);
    let retried: T;
    try {
      retried = await write(sql);
    } catch (retryError) {
      hooks.log?.error("raising alerts for finished runs failed, and so did writing the runs without them", {
        executions: finished,
        error: reason,
        retryError: retryError instanceof Error ? retryError.message : String(retryError),
      });
      throw retryError;
    }
    hooks.log?.error("raising alerts for finished runs failed; the runs were recorded without them", {
      executions: finishedIds(retried),
      error: reason,
    });
    return retried;
  }
}

/** The ids of the runs a write finished (completed or failed). */
function finishedIds(changed: Changed | Changed[] | null): string[] {
  return (Array.isArray(changed) ? changed : changed ? [changed] : [])
    .filter((c) => c.status === "completed" || c.status === "failed")
    .map((c) => c.executionId);
}
